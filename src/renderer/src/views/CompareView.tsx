/**
 * Runs side by side: chosen metrics as a table with differences and as grouped bars, series
 * overlaid on one time axis, attribution side by side, a Monaco diff of two experiments;
 * and for many runs, the parameters that differ with chosen metrics as a table, parallel
 * coordinates and a scatter of any metric against any parameter, grouped by another.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { compareKeyMetrics, type ComparedRun, type RunDetail } from '../../../shared/api.js';
import { differingPaths, flattenDocument, type Leaf } from '../../../shared/flatten.js';
import type { Services } from '../api.js';
import { Chart } from '../charts/Chart.js';
import { attributionOption, metricBarsOption, parallelOption, scatterOption, seriesOption } from '../charts/options.js';
import { formatMetric } from '../format.js';
import { useLoad } from '../load.js';
import { monaco, monacoTheme } from '../monaco/setup.js';
import { navigate } from '../router.js';
import { useDarkMode } from '../theme.js';

/** Up to this many runs, the view also loads their series and attribution and lists metrics side by side. */
const DETAILED_RUNS = 8;

export function CompareView({ api, ids }: { api: Services; ids: number[] }) {
  const key = ids.join(',');
  const few = ids.length <= DETAILED_RUNS;
  const [runs] = useLoad(() => (ids.length >= 2 ? api.compareRuns(ids) : Promise.resolve([])), [api, key]);
  const [details] = useLoad(
    () => (ids.length >= 2 && few ? Promise.all(ids.map((id) => api.getRun(id))) : Promise.resolve([])),
    [api, key],
  );
  if (ids.length < 2) return <Pick api={api} />;
  if (runs.state === 'loading') return <section className="view muted">Loading runs {ids.join(', ')}…</section>;
  if (runs.state === 'error')
    return <section className="view notice error">Could not load the runs: {runs.message}</section>;
  const detailed = details.state === 'ready' ? details.value.filter((r): r is RunDetail => r !== null) : null;
  return (
    <section className="view compare">
      <header className="view-header">
        <h1>Compare {ids.length} runs</h1>
      </header>
      {!few && (
        <p className="muted">
          Series, attribution and metrics side by side are shown for up to {DETAILED_RUNS} runs; below are the
          parameters that differ and any metric against them.
        </p>
      )}
      <Comparison runs={runs.value} details={few ? detailed : null} />
    </section>
  );
}

function Pick({ api }: { api: Services }) {
  const [runs] = useLoad(() => api.listRuns({ status: 'done' }), [api]);
  const [chosen, setChosen] = useState<number[]>([]);
  return (
    <section className="view">
      <h1>Compare</h1>
      <p>Choose two or more finished runs (or select them in Runs and press Compare).</p>
      {runs.state === 'ready' && (
        <ul className="pick">
          {runs.value.map((r) => (
            <li key={r.id}>
              <label>
                <input
                  type="checkbox"
                  checked={chosen.includes(r.id)}
                  onChange={(e) => setChosen(e.target.checked ? [...chosen, r.id] : chosen.filter((x) => x !== r.id))}
                />{' '}
                #{r.id} {r.name} <code>{r.strategy}</code>
              </label>
            </li>
          ))}
        </ul>
      )}
      <button type="button" disabled={chosen.length < 2} onClick={() => navigate({ view: 'compare', ids: chosen })}>
        Compare {chosen.length} runs
      </button>
    </section>
  );
}

const label = (r: { id: number; strategy: string }) => `#${r.id} ${r.strategy}`;

function Comparison({ runs, details }: { runs: ComparedRun[]; details: RunDetail[] | null }) {
  const allMetrics = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  const [metrics, setMetrics] = useState<string[]>(() =>
    [...new Set(runs.flatMap((r) => Object.keys(r.keyMetrics)))].sort(compareKeyMetrics),
  );
  const flat = useMemo(() => runs.map((r) => flattenDocument(r.experiment)), [runs]);
  const params = useMemo(() => differingPaths(flat), [flat]);
  const bars = useMemo(
    () =>
      metricBarsOption(
        metrics,
        runs.map((r) => ({ label: label(r), metrics: r.metrics })),
      ),
    [metrics, runs],
  );
  const few = runs.length <= DETAILED_RUNS;

  return (
    <>
      <details className="metric-chooser">
        <summary>
          Metrics shown: {metrics.length} of {allMetrics.length} (choose)
        </summary>
        <div className="checklist">
          {allMetrics.map((m) => (
            <label key={m}>
              <input
                type="checkbox"
                checked={metrics.includes(m)}
                onChange={(e) => setMetrics(e.target.checked ? [...metrics, m].sort() : metrics.filter((x) => x !== m))}
              />{' '}
              <code>{m}</code>
            </label>
          ))}
        </div>
      </details>

      {few && (
        <table className="runs side-by-side" aria-label="Metrics side by side">
          <thead>
            <tr>
              <th>Metric</th>
              {runs.map((r) => (
                <th key={r.id} className="num">
                  <a href={`#/run/${r.id}`}>{label(r)}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {metrics.map((m) => {
              const base = runs[0]!.metrics[m]?.value;
              return (
                <tr key={m}>
                  <td>
                    <code>{m}</code>
                  </td>
                  {runs.map((r, i) => {
                    const v = r.metrics[m];
                    const delta = i > 0 && v && base ? ((v.value - base) / Math.abs(base)) * 100 : null;
                    return (
                      <td key={r.id} className="num">
                        {v ? formatMetric(v.value, v.unit) : '—'}
                        {delta !== null && Number.isFinite(delta) && (
                          <span className={delta > 0 ? 'delta up' : delta < 0 ? 'delta down' : 'delta'}>
                            {' '}
                            {delta > 0 ? '+' : ''}
                            {delta.toFixed(1)}%
                          </span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {few && metrics.length > 0 && <Chart option={bars} label="Chosen metrics, grouped by run" height={300} />}
      {details && <DetailCharts runs={details} />}

      <h2>Experiments</h2>
      <ExperimentDiff runs={runs} />

      <h2>Parameters that differ</h2>
      <ParameterTable runs={runs} flat={flat} params={params} metrics={metrics} />
      {params.length + metrics.length >= 2 && (
        <Chart
          option={parallelOption(
            [...params, ...metrics],
            runs.map((r, i) => [
              ...params.map((p) => flat[i]![p] ?? '—').map((v) => (typeof v === 'boolean' ? String(v) : v)),
              ...metrics.map((m) => r.metrics[m]?.value ?? null),
            ]),
          )}
          label="Parallel coordinates of parameters and metrics"
          height={320}
        />
      )}
      <Scatter runs={runs} flat={flat} params={params} metrics={allMetrics} />
    </>
  );
}

/** Attribution side by side and series overlaid: what needs each run's whole result. */
function DetailCharts({ runs }: { runs: RunDetail[] }) {
  const seriesNames = useMemo(() => [...new Set(runs.flatMap((r) => r.series.map((s) => s.name)))], [runs]);
  const attribution = useMemo(
    () => attributionOption(runs.flatMap((r) => r.attribution.map((a) => ({ ...a, agent: `#${r.id} ${a.agent}` })))),
    [runs],
  );
  const agents = runs.reduce((n, r) => n + r.attribution.length, 0);
  return (
    <>
      <h2>Where the time went</h2>
      <Chart option={attribution} label="Time attribution side by side" height={60 + 40 * agents} />
      {seriesNames.length > 0 && <h2>Series, overlaid</h2>}
      <div className="chart-grid">
        {seriesNames.map((name) => {
          const lines = runs.flatMap((r) =>
            r.series.filter((s) => s.name === name).map((s) => ({ label: label(r), series: s })),
          );
          return (
            <figure key={name}>
              <figcaption>
                <code>{name}</code> ({lines[0]?.series.unit})
              </figcaption>
              <Chart option={seriesOption(lines)} label={`${name}, overlaid`} />
            </figure>
          );
        })}
      </div>
    </>
  );
}

/** Runs with their experiments flattened, the parameters that differ, and metrics to show. */
interface ParameterProps {
  runs: ComparedRun[];
  flat: Record<string, Leaf>[];
  params: string[];
  metrics: string[];
}

function ParameterTable({ runs, flat, params, metrics }: ParameterProps) {
  if (params.length === 0) return <p className="muted">The experiments are the same apart from their names.</p>;
  return (
    <div className="scroll-x">
      <table className="runs nowrap-table" aria-label="Differing parameters">
        <thead>
          <tr>
            <th>Run</th>
            {params.map((p) => (
              <th key={p}>
                <code>{p}</code>
              </th>
            ))}
            {metrics.map((m) => (
              <th key={m} className="num">
                <code>{m}</code>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {runs.map((r, i) => (
            <tr key={r.id}>
              <td>{label(r)}</td>
              {params.map((p) => (
                <td key={p}>{String(flat[i]![p] ?? '—')}</td>
              ))}
              {metrics.map((m) => (
                <td key={m} className="num">
                  {r.metrics[m] ? formatMetric(r.metrics[m].value, r.metrics[m].unit) : '—'}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Scatter({ runs, flat, params, metrics }: ParameterProps) {
  const [x, setX] = useState(params[0] ?? '');
  const [y, setY] = useState(metrics.includes('sim.time_ns') ? 'sim.time_ns' : (metrics[0] ?? ''));
  const [group, setGroup] = useState('strategy.impl');
  if (params.length === 0 || metrics.length === 0) return null;
  const choices = [...new Set([...params, 'strategy.impl', 'workload.impl'])];
  const points = runs.map((r, i) => {
    const xv = flat[i]![x];
    return {
      x: typeof xv === 'number' ? xv : String(xv),
      y: r.metrics[y]?.value ?? NaN,
      group: String(flat[i]![group] ?? '—'),
      label: `${label(r)}: ${x} = ${String(xv)}, ${y} = ${r.metrics[y]?.value}`,
    };
  });
  return (
    <figure>
      <figcaption className="toolbar">
        Scatter:{' '}
        <select aria-label="Scatter metric" value={y} onChange={(e) => setY(e.target.value)}>
          {metrics.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>{' '}
        against{' '}
        <select aria-label="Scatter parameter" value={x} onChange={(e) => setX(e.target.value)}>
          {params.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>{' '}
        grouped by{' '}
        <select aria-label="Scatter grouping" value={group} onChange={(e) => setGroup(e.target.value)}>
          {choices.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </figcaption>
      <Chart option={scatterOption(x, y, points)} label={`${y} against ${x}`} height={300} />
    </figure>
  );
}

function ExperimentDiff({ runs }: { runs: ComparedRun[] }) {
  const host = useRef<HTMLDivElement>(null);
  const [left, setLeft] = useState(0);
  const [right, setRight] = useState(1);
  const dark = useDarkMode();
  useEffect(() => {
    const text = (r: ComparedRun) => JSON.stringify(r.experiment, null, 2);
    const original = monaco.editor.createModel(text(runs[left]!), 'json');
    const modified = monaco.editor.createModel(text(runs[right]!), 'json');
    const diff = monaco.editor.createDiffEditor(host.current!, {
      readOnly: true,
      automaticLayout: true,
      renderSideBySide: true,
      // Experiments are long and differ in a few fields: show those, fold the rest.
      hideUnchangedRegions: { enabled: true, contextLineCount: 2, minimumLineCount: 3, revealLineCount: 10 },
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
    });
    diff.setModel({ original, modified });
    return () => {
      diff.dispose();
      original.dispose();
      modified.dispose();
    };
  }, [runs, left, right]);
  useEffect(() => monaco.editor.setTheme(monacoTheme()), [dark]);
  const picker = (value: number, set: (n: number) => void, name: string) => (
    <select aria-label={name} value={value} onChange={(e) => set(Number(e.target.value))}>
      {runs.map((r, i) => (
        <option key={r.id} value={i}>
          {label(r)} {r.name}
        </option>
      ))}
    </select>
  );
  return (
    <>
      <div className="toolbar">
        {picker(left, setLeft, 'Left experiment')} ⇄ {picker(right, setRight, 'Right experiment')}
      </div>
      <div ref={host} className="diff-host" data-testid="experiment-diff" />
    </>
  );
}
