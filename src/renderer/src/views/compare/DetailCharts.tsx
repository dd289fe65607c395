/** Compare: attribution side by side and series overlaid, from each run's whole result. */
import { useMemo } from 'react';
import type { RunDetail } from '../../../../shared/api.js';
import { Chart } from '../../charts/Chart.js';
import { attributionOption, seriesOption } from '../../charts/options.js';
import { runLabel as label } from './label.js';

export function DetailCharts({ runs }: { runs: RunDetail[] }) {
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
