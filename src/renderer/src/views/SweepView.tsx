/**
 * The sweeps in the database, and one sweep against a metric: lines over one axis (a line
 * per value of a second, mean ± sd as a band), a heatmap over two, parallel coordinates
 * over all; clicking a mark opens its run. While these services run the sweep, the view
 * polls it and shows the points recorded so far.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { SweepView as Sweep } from '../../../shared/api.js';
import type { Services } from '../api.js';
import { Chart } from '../charts/Chart.js';
import {
  axisValues,
  groupPoints,
  runOfClick,
  showValue,
  sweepHeatmapOption,
  sweepLinesOption,
  sweepParallelOption,
} from '../charts/sweep-options.js';
import { formatValue } from '../format.js';
import { messageOf, useLoad } from '../load.js';
import { href, navigate } from '../router.js';

const POLL_MS = 700;

export function SweepsView({ api }: { api: Services }) {
  const [sweeps] = useLoad(() => api.listSweeps(), [api]);
  return (
    <section className="view">
      <header className="view-header">
        <h1>Sweeps</h1>
      </header>
      <p className="muted">
        A sweep is started from the experiment editor (an experiment with a <code>sweep</code> section) or by{' '}
        <code>hetmem sweep</code>; its points are runs tagged <code>sweep:&lt;id&gt;</code>.
      </p>
      {sweeps.state === 'loading' && <p className="muted">Loading sweeps…</p>}
      {sweeps.state === 'error' && <p className="notice error">Could not list sweeps: {sweeps.message}</p>}
      {sweeps.state === 'ready' && sweeps.value.length === 0 && <p className="muted">No sweep in this database yet.</p>}
      {sweeps.state === 'ready' && sweeps.value.length > 0 && (
        <table aria-label="Sweeps">
          <thead>
            <tr>
              <th>sweep</th>
              <th>name</th>
              <th className="num">runs</th>
              <th className="num">done</th>
              <th className="num">failed</th>
            </tr>
          </thead>
          <tbody>
            {sweeps.value.map((s) => (
              <tr key={s.id}>
                <td>
                  <a href={href({ view: 'sweep', id: s.id })}>{s.id}</a>
                </td>
                <td>{s.name}</td>
                <td className="num">{s.runs}</td>
                <td className="num">{s.done}</td>
                <td className="num">{s.failed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

type Kind = 'lines' | 'heatmap' | 'parallel';

export function SweepView({ api, id }: { api: Services; id: string }) {
  const [metric, setMetric] = useState('');
  const [sweep, setSweep] = useState<Sweep | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const s = await api.getSweep(id, metric);
        if (!current) return;
        setSweep(s);
        setError(null);
        if (s?.progress) timer = setTimeout(() => void load(), POLL_MS);
      } catch (e) {
        if (current) setError(messageOf(e));
      }
    };
    void load();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, id, metric]);

  if (error) return <Frame id={id}>{<p className="notice error">Could not load the sweep: {error}</p>}</Frame>;
  if (sweep === undefined) return <Frame id={id}>{<p className="muted">Loading the sweep…</p>}</Frame>;
  if (sweep === null)
    return <Frame id={id}>{<p className="notice">There is no sweep {id} in this database.</p>}</Frame>;
  return <SweepCharts sweep={sweep} onMetric={setMetric} />;
}

function Frame({ id, name, children }: { id: string; name?: string; children: React.ReactNode }) {
  return (
    <section className="view">
      <header className="view-header">
        <h1>
          Sweep {id}
          {name ? ` · ${name}` : ''}
        </h1>
      </header>
      {children}
    </section>
  );
}

function SweepCharts({ sweep, onMetric }: { sweep: Sweep; onMetric: (m: string) => void }) {
  const axes = sweep.axes;
  const [kind, setKind] = useState<Kind>(axes.length >= 2 ? 'heatmap' : 'lines');
  const [x, setX] = useState(0);
  const [by, setBy] = useState<number | null>(axes.length >= 2 ? 1 : null);
  const [y, setY] = useState(Math.min(1, axes.length - 1));
  const done = sweep.points.filter((p) => p.status === 'done').length;
  const failed = sweep.points.filter((p) => p.status === 'failed').length;
  const option = useMemo(() => {
    if (sweep.points.length === 0 || axes.length === 0) return null;
    if (kind === 'heatmap' && axes.length >= 2)
      return sweepHeatmapOption(sweep, x, y === x ? (x + 1) % axes.length : y);
    if (kind === 'parallel') return sweepParallelOption(sweep);
    return sweepLinesOption(sweep, x, by === x ? null : by);
  }, [sweep, kind, x, y, by, axes.length]);
  const shown =
    kind === 'parallel'
      ? axes.map((_, a) => a)
      : kind === 'heatmap'
        ? [x, y === x ? (x + 1) % axes.length : y]
        : [x, by];
  const pooled = axes.filter((_, a) => !shown.includes(a));
  const onClick = useCallback((params: unknown) => {
    const runId = runOfClick(params);
    if (runId !== null) navigate({ view: 'run', id: runId });
  }, []);
  /** A choice of axis; with `none`, also no axis (null) under that label. */
  const axisSelect = <T extends number | null>(label: string, value: T, set: (a: T) => void, none?: string) => (
    <label>
      {label}{' '}
      <select
        aria-label={label}
        value={value ?? ''}
        onChange={(e) => set((e.target.value === '' ? null : Number(e.target.value)) as T)}
      >
        {none !== undefined && <option value="">{none}</option>}
        {axes.map((a, i) => (
          <option key={a} value={i}>
            {a}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <Frame id={sweep.id} name={sweep.name}>
      <p role="status" className="muted">
        {sweep.progress
          ? `Running: ${sweep.progress.done + sweep.progress.failed} of ${sweep.progress.total} points recorded (${sweep.progress.failed} failed); `
          : ''}
        {`${sweep.points.length} runs: ${done} done, ${failed} failed`}
      </p>
      <div className="toolbar">
        <label>
          Metric{' '}
          <select aria-label="Metric" value={sweep.metric} onChange={(e) => onMetric(e.target.value)}>
            {sweep.metrics.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <span role="radiogroup" aria-label="Chart">
          {(['lines', 'heatmap', 'parallel'] as const).map((k) => (
            <label key={k}>
              <input
                type="radio"
                name="sweep-chart"
                checked={kind === k}
                disabled={k === 'heatmap' && axes.length < 2}
                onChange={() => setKind(k)}
              />{' '}
              {{ lines: 'Lines', heatmap: 'Heatmap', parallel: 'Parallel coordinates' }[k]}
            </label>
          ))}
        </span>
        {kind !== 'parallel' && axesSelectFor(kind)}
      </div>
      {option ? (
        <>
          <Chart option={option} height={420} label={`sweep ${kind} chart`} onClick={onClick} />
          <p className="muted small">
            Each mark is the mean over {pooled.length ? `${pooled.join(', ')} and ` : ''}the repetitions&apos; seeds
            {kind === 'lines' ? '; the band is ± one standard deviation' : ''}. Click a mark to open its run.
          </p>
        </>
      ) : (
        <p className="muted">No point is recorded yet.</p>
      )}
      <SweepTable sweep={sweep} />
    </Frame>
  );

  function axesSelectFor(k: Kind) {
    if (k === 'heatmap') {
      return (
        <>
          {axisSelect('X axis', x, setX)}
          {axisSelect('Y axis', y, setY)}
        </>
      );
    }
    return (
      <>
        {axisSelect('X axis', x, setX)}
        {axisSelect('One line per', by, setBy, '(one line)')}
      </>
    );
  }
}

/** Every combination of the axes: mean, spread and runs (the CLI's summary table). */
function SweepTable({ sweep }: { sweep: Sweep }) {
  const all = sweep.axes.map((_, a) => a);
  const order = all.map((a) => axisValues(sweep, a).map((v) => JSON.stringify(v)));
  const rank = (key: unknown[]) => key.map((v, a) => order[a]!.indexOf(JSON.stringify(v)));
  // In the order of the axes' values, the last axis varying fastest (as a grid sweep runs).
  const groups = groupPoints(sweep, all).sort((g, h) => {
    const [rg, rh] = [rank(g.key), rank(h.key)];
    const i = rg.findIndex((r, k) => r !== rh[k]);
    return i < 0 ? 0 : rg[i]! - rh[i]!;
  });
  const unit = sweep.unit ? ` (${sweep.unit})` : '';
  return (
    <table aria-label="Sweep points">
      <thead>
        <tr>
          {sweep.axes.map((a) => (
            <th key={a}>{a}</th>
          ))}
          <th className="num">
            {sweep.metric}
            {unit} mean
          </th>
          <th className="num">sd</th>
          <th className="num">n</th>
          <th>runs</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr key={JSON.stringify(g.key)}>
            {g.key.map((v, i) => (
              <td key={i}>{showValue(v)}</td>
            ))}
            <td className="num">{Number.isFinite(g.mean) ? formatValue(g.mean) : '—'}</td>
            <td className="num">{Number.isFinite(g.sd) ? formatValue(g.sd) : '—'}</td>
            <td className="num">{g.n}</td>
            <td>
              {g.runIds.map((r) => (
                <a key={r} href={href({ view: 'run', id: r })} className="small">
                  {r}{' '}
                </a>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
