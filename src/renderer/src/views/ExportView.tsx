/**
 * Export chosen runs (a workbench SQLite file, CSV long or wide, JSON, a Chrome trace for
 * Perfetto) and import another workbench's database, merging without duplicates.
 */
import { useState } from 'react';
import type { ExportFormat } from '../../../shared/api.js';
import type { Services } from '../api.js';
import { base64ToBytes, downloadFile, fileToBase64, messageOf, useLoad } from '../load.js';
import { navigate } from '../router.js';

const FORMATS: { format: ExportFormat; label: string; what: string }[] = [
  { format: 'sqlite', label: 'SQLite database', what: 'a workbench database another workbench can import' },
  { format: 'csv', label: 'CSV (long)', what: 'one row per run and metric' },
  { format: 'csv-wide', label: 'CSV (wide)', what: 'one row per run; differing parameters and metrics as columns' },
  { format: 'json', label: 'JSON', what: 'runs, experiments and whole results' },
  {
    format: 'trace',
    label: 'Chrome trace',
    what: 'phases and series as trace events, for Perfetto or chrome://tracing',
  },
];

export function ExportView({ api, ids }: { api: Services; ids: number[] }) {
  const [runs, reload] = useLoad(() => api.listRuns(), [api]);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = new Set(ids);

  const exportAs = async (format: ExportFormat) => {
    setMessage(null);
    setBusy(true);
    try {
      const file = await api.exportRuns(ids, format);
      downloadFile(file.fileName, file.mediaType, base64ToBytes(file.base64));
      setMessage({ error: false, text: `Exported ${ids.length} run(s) to ${file.fileName}.` });
    } catch (e) {
      setMessage({ error: true, text: messageOf(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="view">
      <h1>Export and import</h1>
      <h2>Export</h2>
      {runs.state === 'ready' && (
        <ul className="pick" aria-label="Runs to export">
          {runs.value.map((r) => (
            <li key={r.id}>
              <label>
                <input
                  type="checkbox"
                  checked={chosen.has(r.id)}
                  onChange={(e) =>
                    navigate({
                      view: 'export',
                      ids: e.target.checked ? [...ids, r.id].sort((a, b) => a - b) : ids.filter((x) => x !== r.id),
                    })
                  }
                />{' '}
                #{r.id} {r.name} <code>{r.strategy}</code>{' '}
                <span className={`status status-${r.status}`}>{r.status}</span>
              </label>
            </li>
          ))}
        </ul>
      )}
      <div className="toolbar">
        {FORMATS.map((f) => (
          <button
            key={f.format}
            type="button"
            disabled={ids.length === 0 || busy}
            title={f.what}
            onClick={() => void exportAs(f.format)}
          >
            {f.label}
          </button>
        ))}
      </div>
      <p className="muted">{ids.length === 0 ? 'Choose runs to export.' : `${ids.length} run(s) chosen.`}</p>

      <h2>Import</h2>
      <p>Merge another workbench&apos;s database into this one; runs already here are skipped.</p>
      <label className="button">
        Import a database…
        <input
          type="file"
          aria-label="Import a database file"
          accept=".sqlite,.db,application/vnd.sqlite3"
          className="visually-hidden"
          onChange={async (e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (!file) return;
            setMessage(null);
            setBusy(true);
            try {
              const report = await api.importDatabase({
                fileName: file.name,
                mediaType: file.type || 'application/vnd.sqlite3',
                base64: await fileToBase64(file),
              });
              setMessage({
                error: false,
                text: `Imported ${report.imported} run(s) from ${file.name}; skipped ${report.skipped}.`,
              });
              reload();
            } catch (err) {
              setMessage({ error: true, text: messageOf(err) });
            } finally {
              setBusy(false);
            }
          }}
        />
      </label>
      {message && (
        <p className={message.error ? 'notice error' : 'notice'} role="status">
          {message.text}
        </p>
      )}
    </section>
  );
}
