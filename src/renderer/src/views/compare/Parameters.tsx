/** Compare: the parameters that differ as a table, and a scatter of a metric against one of them. */
import { useState } from 'react';
import type { ComparedRun } from '../../../../shared/api.js';
import type { Leaf } from '../../../../shared/flatten.js';
import { Chart } from '../../charts/Chart.js';
import { scatterOption } from '../../charts/options.js';
import { formatMetric } from '../../format.js';
import { runLabel as label } from './label.js';

/** Runs with their experiments flattened, the parameters that differ, and metrics to show. */
export interface ParameterProps {
  runs: ComparedRun[];
  flat: Record<string, Leaf>[];
  params: string[];
  metrics: string[];
}

export function ParameterTable({ runs, flat, params, metrics }: ParameterProps) {
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

export function Scatter({ runs, flat, params, metrics }: ParameterProps) {
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
