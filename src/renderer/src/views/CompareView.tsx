/**
 * Runs side by side: chosen metrics as a table with differences and as grouped bars, series
 * overlaid on one time axis, attribution side by side, a Monaco diff of two experiments;
 * and for many runs, the parameters that differ with chosen metrics as a table, parallel
 * coordinates and a scatter of any metric against any parameter, grouped by another.
 */
import { useMemo, useState } from 'react';
import { compareKeyMetrics, type ComparedRun, type RunDetail } from '../../../shared/api.js';
import { experimentDifferences, metricRows } from '../../../shared/compare.js';
import type { Services } from '../api.js';
import { Chart } from '../charts/Chart.js';
import { metricBarsOption, parallelOption } from '../charts/options.js';
import { formatMetric } from '../format.js';
import { useLoad } from '../load.js';
import { navigate } from '../router.js';
import { DetailCharts } from './compare/DetailCharts.js';
import { ExperimentDiff } from './compare/ExperimentDiff.js';
import { runLabel as label } from './compare/label.js';
import { ParameterTable, Scatter } from './compare/Parameters.js';

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

function Comparison({ runs, details }: { runs: ComparedRun[]; details: RunDetail[] | null }) {
  const allMetrics = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  const [metrics, setMetrics] = useState<string[]>(() =>
    [...new Set(runs.flatMap((r) => Object.keys(r.keyMetrics)))].sort(compareKeyMetrics),
  );
  const { flat, paths: params } = useMemo(() => experimentDifferences(runs), [runs]);
  const rows = useMemo(() => metricRows(runs, metrics), [runs, metrics]);
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
            {rows.map((row) => (
              <tr key={row.name}>
                <td>
                  <code>{row.name}</code>
                </td>
                {runs.map((r, i) => {
                  const v = row.values[i];
                  const delta = row.percentFromFirst[i];
                  return (
                    <td key={r.id} className="num">
                      {v === null ? '—' : formatMetric(v, row.unit)}
                      {delta != null && (
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
            ))}
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
