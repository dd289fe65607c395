import { useCallback, useEffect, useState } from 'react';
import {
  RUN_STATUSES,
  type HetmemApi,
  type Info,
  type RunDetail,
  type RunStatus,
  type RunSummary,
} from '../../../shared/api.js';
import { getApi } from '../api.js';
import { formatInstant, formatValue, formatWallMs } from '../format.js';

type Load<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; value: T };

const EXAMPLE_EXPERIMENT = 'resources/experiments/gpu-stream-hmm-mirror.json';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function RunsView() {
  const api = getApi();
  if (!api) {
    return (
      <section className="view">
        <h1>Runs</h1>
        <p className="notice error">
          This page has no connection to the workbench services (no <code>window.hetmem</code>). Open it in the Hetmem
          Workbench desktop app.
        </p>
      </section>
    );
  }
  return <RunList api={api} />;
}

function RunList({ api }: { api: HetmemApi }) {
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [runs, setRuns] = useState<Load<RunSummary[]>>({ state: 'loading' });
  const [info, setInfo] = useState<Info | null>(null);
  const [selected, setSelected] = useState<number | null>(null);

  const refresh = useCallback(() => {
    let current = true;
    setRuns({ state: 'loading' });
    api.listRuns(status === '' ? undefined : { status }).then(
      (value) => current && setRuns({ state: 'ready', value }),
      (error: unknown) => current && setRuns({ state: 'error', message: messageOf(error) }),
    );
    return () => {
      current = false;
    };
  }, [api, status]);

  useEffect(refresh, [refresh]);
  useEffect(() => {
    api.getInfo().then(setInfo, () => setInfo(null));
  }, [api]);

  return (
    <section className="view">
      <header className="view-header">
        <h1>Runs</h1>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as RunStatus | '')}>
            <option value="">all</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </header>

      {runs.state === 'loading' && <p className="muted">Loading runs…</p>}
      {runs.state === 'error' && <p className="notice error">Could not list runs: {runs.message}</p>}
      {runs.state === 'ready' && runs.value.length === 0 && <EmptyState status={status} info={info} />}
      {runs.state === 'ready' && runs.value.length > 0 && (
        <RunTable runs={runs.value} selected={selected} onSelect={setSelected} />
      )}
      {selected !== null && <RunDetailPanel api={api} id={selected} onClose={() => setSelected(null)} />}
    </section>
  );
}

function EmptyState({ status, info }: { status: RunStatus | ''; info: Info | null }) {
  if (status !== '') return <p className="muted">No {status} runs.</p>;
  const db = info ? `"${info.databasePath}"` : '<the workbench database>';
  return (
    <div className="empty">
      <p>
        <strong>No runs yet.</strong> Run{' '}
        <code>
          npx hetmem run {EXAMPLE_EXPERIMENT} --db {db}
        </code>{' '}
        in a terminal, then press Refresh, or run an experiment from the Experiment editor once it is built.
      </p>
      {info && <p className="muted">Database: {info.databasePath}</p>}
    </div>
  );
}

function RunTable({
  runs,
  selected,
  onSelect,
}: {
  runs: RunSummary[];
  selected: number | null;
  onSelect: (id: number) => void;
}) {
  return (
    <table className="runs">
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Name</th>
          <th>Strategy</th>
          <th>Workload</th>
          <th className="num">Seed</th>
          <th>Status</th>
          <th>Started</th>
          <th className="num">Wall time</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr
            key={run.id}
            className={run.id === selected ? 'selected' : undefined}
            onClick={() => onSelect(run.id)}
            tabIndex={0}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') onSelect(run.id);
            }}
          >
            <td className="num">{run.id}</td>
            <td>{run.name}</td>
            <td>
              <code>{run.strategy}</code>
            </td>
            <td>{run.workload}</td>
            <td className="num">{run.seed}</td>
            <td>
              <span className={`status status-${run.status}`}>{run.status}</span>
            </td>
            <td>{formatInstant(run.startedAt)}</td>
            <td className="num">{formatWallMs(run.wallMs)}</td>
            <td className="error-text">{run.error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RunDetailPanel({ api, id, onClose }: { api: HetmemApi; id: number; onClose: () => void }) {
  const [detail, setDetail] = useState<Load<RunDetail | null>>({ state: 'loading' });

  useEffect(() => {
    let current = true;
    setDetail({ state: 'loading' });
    api.getRun(id).then(
      (value) => current && setDetail({ state: 'ready', value }),
      (error: unknown) => current && setDetail({ state: 'error', message: messageOf(error) }),
    );
    return () => {
      current = false;
    };
  }, [api, id]);

  return (
    <aside className="detail" aria-label={`Run ${id}`}>
      <header className="view-header">
        <h2>Run {id}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      {detail.state === 'loading' && <p className="muted">Loading…</p>}
      {detail.state === 'error' && (
        <p className="notice error">
          Could not load run {id}: {detail.message}
        </p>
      )}
      {detail.state === 'ready' && detail.value === null && (
        <p className="muted">Run {id} is no longer in the database.</p>
      )}
      {detail.state === 'ready' && detail.value !== null && <RunFacts run={detail.value} />}
    </aside>
  );
}

function RunFacts({ run }: { run: RunDetail }) {
  const metrics = Object.entries(run.metrics).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <dl className="facts">
        <dt>Experiment</dt>
        <dd>{run.name}</dd>
        <dt>Status</dt>
        <dd>{run.status}</dd>
        <dt>Started / ended</dt>
        <dd>
          {formatInstant(run.startedAt)} / {formatInstant(run.endedAt)}
        </dd>
        <dt>Model version</dt>
        <dd>{run.modelVersion}</dd>
        <dt>Experiment hash</dt>
        <dd>
          <code>{run.experimentHash}</code>
        </dd>
        {run.error !== null && (
          <>
            <dt>Error</dt>
            <dd className="error-text">{run.error}</dd>
          </>
        )}
      </dl>
      {metrics.length === 0 ? (
        <p className="muted">This run recorded no metrics.</p>
      ) : (
        <table className="metrics">
          <thead>
            <tr>
              <th>Metric</th>
              <th className="num">Value</th>
              <th>Unit</th>
            </tr>
          </thead>
          <tbody>
            {metrics.map(([name, m]) => (
              <tr key={name}>
                <td>
                  <code>{name}</code>
                </td>
                <td className="num">{formatValue(m.value)}</td>
                <td>{m.unit}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
