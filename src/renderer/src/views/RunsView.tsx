/**
 * All runs: filter (status, strategy, tag, name), sort by any column, select several to
 * compare, export, tag or delete (after a confirmation). Key metric columns come from the
 * runs themselves (KEY_METRIC_PATTERNS), so new per-device metrics get columns too.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  compareKeyMetrics,
  RUN_STATUSES,
  type ListRunsFilter,
  type RunStatus,
  type RunSummary,
} from '../../../shared/api.js';
import type { Services } from '../api.js';
import { formatInstant, formatMetric, formatWallMs } from '../format.js';
import { messageOf, useLoad } from '../load.js';
import { navigate } from '../router.js';

type SortKey = 'id' | 'name' | 'strategy' | 'workload' | 'status' | 'startedAt' | 'wallMs' | `metric:${string}`;

function sortValue(run: RunSummary, key: SortKey): string | number {
  if (key.startsWith('metric:')) return run.keyMetrics[key.slice(7)]?.value ?? -Infinity;
  const v = run[key as keyof RunSummary];
  return typeof v === 'number' || typeof v === 'string' ? v : -Infinity;
}

export function RunsView({ api }: { api: Services }) {
  const [filter, setFilter] = useState<ListRunsFilter>({});
  const [runs, reloadRuns] = useLoad(() => api.listRuns(filter), [api, JSON.stringify(filter)]);
  /** Runs waiting in the queue: not in the database until they start. */
  const [active, reloadActive] = useLoad(() => api.activeRuns(), [api]);
  const reload = useCallback(() => {
    reloadRuns();
    reloadActive();
  }, [reloadRuns, reloadActive]);
  const queued = active.state === 'ready' && !filter.status ? active.value.filter((r) => r.state === 'queued') : [];
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'id', descending: true });
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [tagDraft, setTagDraft] = useState('');
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);

  // Runs that are queued, start or end elsewhere (the editor, another window) show up here.
  useEffect(() => api.onRunEvent((e) => e.type !== 'progress' && e.type !== 'series' && reload()), [api, reload]);

  const list = runs.state === 'ready' ? runs.value : [];
  const metricColumns = useMemo(
    () => [...new Set(list.flatMap((r) => Object.keys(r.keyMetrics)))].sort(compareKeyMetrics).slice(0, 8),
    [list],
  );
  const strategies = useMemo(() => [...new Set(list.map((r) => r.strategy))].sort(), [list]);
  const sorted = useMemo(() => {
    const out = [...list];
    out.sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.descending ? -c : c;
    });
    return out;
  }, [list, sort]);
  const chosen = sorted.filter((r) => selected.has(r.id)).map((r) => r.id);

  const act = async (what: () => Promise<string>) => {
    setMessage(null);
    try {
      setMessage({ error: false, text: await what() });
      reload();
    } catch (e) {
      setMessage({ error: true, text: messageOf(e) });
    }
  };

  const header = (key: SortKey, label: string, numeric = false) => (
    <th
      key={key}
      className={[numeric ? 'num' : '', key.startsWith('metric:') ? 'metric-head' : ''].join(' ').trim() || undefined}
      aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}
    >
      <button
        type="button"
        className="sort"
        onClick={() => setSort((s) => ({ key, descending: s.key === key ? !s.descending : numeric }))}
      >
        {label}
        {sort.key === key ? (sort.descending ? ' ▾' : ' ▴') : ''}
      </button>
    </th>
  );

  return (
    <section className="view">
      <header className="view-header toolbar">
        <h1>Runs</h1>
        <label>
          Status{' '}
          <select
            value={filter.status ?? ''}
            onChange={(e) => setFilter({ ...filter, status: (e.target.value || undefined) as RunStatus | undefined })}
          >
            <option value="">all</option>
            {RUN_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Strategy{' '}
          <select
            value={filter.strategy ?? ''}
            onChange={(e) => setFilter({ ...filter, strategy: e.target.value || undefined })}
          >
            <option value="">all</option>
            {[...new Set([...strategies, ...(filter.strategy ? [filter.strategy] : [])])].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <input
          aria-label="Filter by name"
          placeholder="name contains…"
          value={filter.nameContains ?? ''}
          onChange={(e) => setFilter({ ...filter, nameContains: e.target.value || undefined })}
        />
        <input
          aria-label="Filter by tag"
          placeholder="tag…"
          value={filter.tag ?? ''}
          onChange={(e) => setFilter({ ...filter, tag: e.target.value || undefined })}
        />
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </header>

      <div className="toolbar selection-bar" aria-label="Selected runs">
        <span>{chosen.length} selected</span>
        <button type="button" disabled={chosen.length < 2} onClick={() => navigate({ view: 'compare', ids: chosen })}>
          Compare
        </button>
        <button type="button" disabled={chosen.length === 0} onClick={() => navigate({ view: 'export', ids: chosen })}>
          Export…
        </button>
        <input
          aria-label="Tag for the selected runs"
          placeholder="tag the selected…"
          value={tagDraft}
          onChange={(e) => setTagDraft(e.target.value)}
        />
        <button
          type="button"
          disabled={chosen.length === 0 || !tagDraft.trim()}
          onClick={() =>
            void act(async () => {
              for (const id of chosen) await api.tagRun(id, { add: [tagDraft.trim()] });
              setTagDraft('');
              return `Tagged ${chosen.length} run(s) "${tagDraft.trim()}".`;
            })
          }
        >
          Add tag
        </button>
        <button type="button" className="danger" disabled={chosen.length === 0} onClick={() => setConfirmDelete(true)}>
          Delete…
        </button>
      </div>
      {confirmDelete && (
        <div className="notice confirm" role="alertdialog" aria-label="Confirm delete">
          Delete {chosen.length === 1 ? `run ${chosen[0]}` : `${chosen.length} runs (${chosen.join(', ')})`} with their
          results? This cannot be undone.{' '}
          <button
            type="button"
            className="danger"
            onClick={() => {
              setConfirmDelete(false);
              void act(async () => {
                const n = await api.deleteRuns(chosen);
                setSelected(new Set());
                return `Deleted ${n} run(s).`;
              });
            }}
          >
            Delete
          </button>{' '}
          <button type="button" autoFocus onClick={() => setConfirmDelete(false)}>
            Keep them
          </button>
        </div>
      )}
      {message && <p className={message.error ? 'notice error' : 'notice'}>{message.text}</p>}

      {runs.state === 'loading' && <p className="muted">Loading runs…</p>}
      {runs.state === 'error' && <p className="notice error">Could not list runs: {runs.message}</p>}
      {runs.state === 'ready' && list.length === 0 && queued.length === 0 && (
        <p className="muted">
          {Object.values(filter).some(Boolean)
            ? 'No runs match these filters.'
            : 'No runs yet. Write an experiment in the Experiment editor and run it (Ctrl/Cmd+Enter).'}
        </p>
      )}
      {list.length + queued.length > 0 && (
        <div className="scroll-x">
          <table className="runs nowrap-table">
            <thead>
              <tr>
                <th>
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    checked={chosen.length === sorted.length}
                    onChange={(e) => setSelected(new Set(e.target.checked ? sorted.map((r) => r.id) : []))}
                  />
                </th>
                {header('id', '#', true)}
                {header('name', 'Name')}
                {header('strategy', 'Strategy')}
                {header('workload', 'Workload')}
                {metricColumns.map((m) => header(`metric:${m}`, m, true))}
                {header('status', 'Status')}
                {header('startedAt', 'Started')}
                {header('wallMs', 'Wall time', true)}
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              {queued.map((q) => (
                <tr key={`queued-${q.queueId}`} className="queued">
                  <td />
                  <td className="num muted">—</td>
                  <td>
                    <a href={`#/queued/${q.queueId}`}>{q.name}</a>
                    <div className="muted small">
                      {q.position === 1 ? 'queued, next to start' : `queued, number ${q.position}`}{' '}
                      <button
                        type="button"
                        className="small"
                        aria-label={`Remove ${q.name} from the queue`}
                        onClick={() =>
                          void act(async () =>
                            (await api.dequeueRun(q.queueId))
                              ? `Removed "${q.name}" from the queue.`
                              : `"${q.name}" had already started.`,
                          )
                        }
                      >
                        Remove
                      </button>
                    </div>
                  </td>
                  <td>
                    <code>{q.strategy}</code>
                  </td>
                  <td>{q.workload}</td>
                  {metricColumns.map((m) => (
                    <td key={m} />
                  ))}
                  <td>
                    <span className="status status-queued">queued</span>
                  </td>
                  <td />
                  <td />
                  <td />
                </tr>
              ))}
              {sorted.map((run) => (
                <tr key={run.id} className={selected.has(run.id) ? 'selected' : undefined}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select run ${run.id}`}
                      checked={selected.has(run.id)}
                      onChange={(e) => {
                        const next = new Set(selected);
                        if (e.target.checked) next.add(run.id);
                        else next.delete(run.id);
                        setSelected(next);
                      }}
                    />
                  </td>
                  <td className="num">{run.id}</td>
                  <td>
                    <a href={`#/run/${run.id}`}>{run.name}</a>
                    {run.error && <div className="error-text small">{run.error}</div>}
                  </td>
                  <td>
                    <code>{run.strategy}</code>
                  </td>
                  <td>{run.workload}</td>
                  {metricColumns.map((m) => (
                    <td key={m} className="num">
                      {run.keyMetrics[m] ? formatMetric(run.keyMetrics[m].value, run.keyMetrics[m].unit) : ''}
                    </td>
                  ))}
                  <td>
                    <span className={`status status-${run.status}`}>{run.status}</span>
                  </td>
                  <td>{formatInstant(run.startedAt)}</td>
                  <td className="num">{formatWallMs(run.wallMs)}</td>
                  <td>
                    {run.tags.map((t) => (
                      <span key={t} className="tag">
                        {t}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
