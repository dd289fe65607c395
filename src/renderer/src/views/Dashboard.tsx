/**
 * A finished run, explained: headline metrics, one line on where the time went, the time
 * attribution per agent, the phases, series over simulated time, the component timeline,
 * histograms and page-state snapshots. Every part is built from what the result holds, so new metrics, series and
 * agents (a second device) appear without a change here.
 */
import { useMemo, useState } from 'react';
import type { ExportFormat, RunDetail } from '../../../shared/api.js';
import type { Services } from '../api.js';
import { Chart } from '../charts/Chart.js';
import { attributionOption, histogramOption, seriesOption } from '../charts/options.js';
import { formatDurationNs, formatInstant, formatMetric, formatWallMs } from '../format.js';
import { base64ToBytes, downloadFile, messageOf } from '../load.js';
import { href, navigate } from '../router.js';
import { timeVerdict } from '../verdict.js';
import { openInEditor } from './EditorView.js';
import { PageMap } from './PageMap.js';
import { TagEditor } from './TagEditor.js';
import { TimelinePanel } from './TimelinePanel.js';

export function Dashboard({ api, run, onChange }: { api: Services; run: RunDetail; onChange: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const exportAs = async (format: ExportFormat) => {
    try {
      const file = await api.exportRuns([run.id], format);
      downloadFile(file.fileName, file.mediaType, base64ToBytes(file.base64));
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const done = run.status === 'done';
  return (
    <section className="view dashboard" aria-label={`Run ${run.id} dashboard`}>
      <header className="view-header">
        <h1>
          Run {run.id}: {run.name}
        </h1>
        <span className={`status status-${run.status}`}>{run.status}</span>
        <span className="spacer" />
        <button type="button" onClick={() => openInEditor(JSON.stringify(run.experiment, null, 2))}>
          Edit a copy
        </button>
        {done && (
          <button
            type="button"
            title="This run beside the ten finished runs before it"
            onClick={async () => {
              try {
                const earlier = (await api.listRuns({ status: 'done' })).map((r) => r.id).filter((id) => id < run.id);
                if (earlier.length === 0) setError('There is no earlier finished run to compare with.');
                else navigate({ view: 'compare', ids: [...earlier.slice(-10), run.id] });
              } catch (e) {
                setError(messageOf(e));
              }
            }}
          >
            Compare with earlier runs
          </button>
        )}
        <select
          aria-label="Export this run"
          value=""
          onChange={(e) => e.target.value && void exportAs(e.target.value as ExportFormat)}
        >
          <option value="">Export…</option>
          <option value="json">JSON</option>
          <option value="csv">CSV</option>
          <option value="sqlite">SQLite database</option>
          <option value="trace">Chrome trace (Perfetto)</option>
        </select>
      </header>
      <p className="muted">
        <code>{run.strategy}</code> · {run.workload} · seed {run.seed} · started {formatInstant(run.startedAt)} · took{' '}
        {formatWallMs(run.wallMs)} · model {run.modelVersion}
      </p>
      <TagEditor api={api} runId={run.id} tags={run.tags} onChange={onChange} />
      {error && <p className="notice error">{error}</p>}
      {run.error && (
        <p className="notice error" role="alert">
          This run {run.status === 'cancelled' ? 'was cancelled' : 'failed'}: {run.error}
        </p>
      )}
      {done && <Results api={api} run={run} />}
    </section>
  );
}

function Results({ api, run }: { api: Services; run: RunDetail }) {
  const attribution = useMemo(() => attributionOption(run.attribution), [run]);
  const seriesByUnit = run.series.filter((s) => s.values.length > 0);
  return (
    <>
      <div className="cards" aria-label="Headline metrics">
        {Object.entries(run.keyMetrics).map(([name, m]) => (
          <div className="card" key={name}>
            <div className="card-value">{formatMetric(m.value, m.unit)}</div>
            <div className="card-label">
              <code>{name}</code>
            </div>
          </div>
        ))}
      </div>
      <p className="verdict" aria-label="Where the time went">
        {timeVerdict(run.attribution)}
      </p>

      <h2>Where the time went</h2>
      {run.attribution.length ? (
        <Chart option={attribution} label="Time attribution per agent" height={60 + 44 * run.attribution.length} />
      ) : (
        <p className="muted">No attribution recorded.</p>
      )}

      {run.ops.length > 0 && (
        <>
          <h2>Phases</h2>
          <PhasesTable run={run} />
        </>
      )}

      {seriesByUnit.length > 0 && <h2>Over simulated time</h2>}
      <div className="chart-grid">
        {seriesByUnit.map((s) => (
          <figure key={s.name}>
            <figcaption>
              <code>{s.name}</code> ({s.unit})
            </figcaption>
            <Chart option={seriesOption([{ label: s.name, series: s }])} label={`${s.name} over simulated time`} />
          </figure>
        ))}
      </div>

      <TimelinePanel api={api} runId={run.id} ops={run.ops} />

      {run.histograms.length > 0 && <h2>Distributions</h2>}
      <div className="chart-grid">
        {run.histograms.map((h) => (
          <figure key={h.name}>
            <figcaption>
              <code>{h.name}</code>: {h.count.toLocaleString('en-US')} samples, mean{' '}
              {h.count ? formatMetric(h.sum / h.count, h.unit) : '—'}, max {formatMetric(h.max, h.unit)}
            </figcaption>
            <Chart option={histogramOption(h)} label={`${h.name} histogram`} height={220} />
          </figure>
        ))}
      </div>

      {run.snapshots.length > 0 && (
        <>
          <h2>Page state snapshots</h2>
          {run.snapshots.map((s, i) => (
            <PageMap key={i} snapshot={s} op={run.ops[s.opIndex]?.op} />
          ))}
        </>
      )}

      <details>
        <summary>All {Object.keys(run.metrics).length} metrics</summary>
        <table className="metrics">
          <tbody>
            {Object.entries(run.metrics)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, m]) => (
                <tr key={name}>
                  <td>
                    <code>{name}</code>
                  </td>
                  <td className="num">{formatMetric(m.value, m.unit)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
      <p>
        <a href={href({ view: 'runs' })}>All runs</a>
      </p>
    </>
  );
}

function PhasesTable({ run }: { run: RunDetail }) {
  return (
    <table className="runs phases">
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Phase / operation</th>
          <th className="num">Start</th>
          <th className="num">Duration</th>
          <th className="num">Faults</th>
          <th className="num">Host→device</th>
          <th className="num">Device→host</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {run.ops.map((op) => (
          <tr key={op.index} className={op.unexpected ? 'unexpected' : undefined}>
            <td className="num">{op.index}</td>
            <td>{op.op}</td>
            <td className="num">{formatDurationNs(op.startNs)}</td>
            <td className="num">{formatDurationNs(op.durationNs)}</td>
            <td className="num">{op.faults.toLocaleString('en-US')}</td>
            <td className="num">{formatMetric(op.h2dBytes, 'bytes')}</td>
            <td className="num">{formatMetric(op.d2hBytes, 'bytes')}</td>
            <td className={op.unexpected ? 'error-text' : undefined}>
              {op.error ?? 'ok'}
              {op.expected !== undefined && (op.unexpected ? ` (expected ${op.expected})` : ' (as expected)')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
