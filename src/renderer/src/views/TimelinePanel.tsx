/**
 * The run's component timeline: when each link direction, copy engine, fault handler, DRAM
 * channel and the host memory was busy, zoomable from the whole run down to single
 * transfers. Loaded on its own (it can be megabytes), after the rest of the dashboard.
 */
import { useEffect, useMemo, useState } from 'react';
import type { OpReport, Timeline } from '../../../shared/api.js';
import type { Services } from '../api.js';
import { Chart } from '../charts/Chart.js';
import { coarseningNote, timelineHeight, timelineOption } from '../charts/timeline-options.js';
import { messageOf } from '../load.js';

type Loaded = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; timeline: Timeline | null };

export function TimelinePanel({ api, runId, ops }: { api: Services; runId: number; ops: readonly OpReport[] }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    setLoaded({ state: 'loading' });
    api.getTimeline(runId).then(
      (timeline) => live && setLoaded({ state: 'done', timeline }),
      (e) => live && setLoaded({ state: 'error', message: messageOf(e) }),
    );
    return () => {
      live = false;
    };
  }, [api, runId]);
  const timeline = loaded.state === 'done' ? loaded.timeline : null;
  const option = useMemo(() => (timeline ? timelineOption(timeline, ops) : null), [timeline, ops]);

  return (
    <section aria-label="Timeline of the components">
      <h2>Timeline</h2>
      {loaded.state === 'loading' && <p className="muted">Loading the timeline…</p>}
      {loaded.state === 'error' && <p className="notice error">The timeline could not be loaded: {loaded.message}</p>}
      {loaded.state === 'done' && !timeline && (
        <p className="muted">
          No timeline recorded: the run was stored before timelines existed, or ran with{' '}
          <code>sampling.timelineIntervals</code> 0.
        </p>
      )}
      {timeline && option && (
        <>
          <p className="muted">
            Busy intervals of each component; scroll or drag the slider to zoom from the whole run down to single
            transfers. {coarseningNote(timeline)}
          </p>
          <Chart
            option={option}
            label="Component timeline"
            height={timelineHeight(timeline.tracks.length + (ops.length > 0 ? 1 : 0))}
          />
        </>
      )}
    </section>
  );
}
