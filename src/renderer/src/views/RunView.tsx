/**
 * One run: while it runs, a progress bar with simulated time, events per second and time
 * left, a cancel button, and charts that grow live (the model's own series, as recorded
 * so far, and the simulator's pace); once it ends, its dashboard (or its error). Progress
 * and series arrive as run events; the run's record is read again when it ends.
 */
import { useEffect, useMemo, useState } from 'react';
import type { ProgressEvent, SeriesEvent } from '../../../shared/api.js';
import type { Services } from '../api.js';
import { Chart } from '../charts/Chart.js';
import { liveOption, seriesOption } from '../charts/options.js';
import { formatDurationNs, formatWallMs } from '../format.js';
import { messageOf, useLoad } from '../load.js';
import { Dashboard } from './Dashboard.js';

const MAX_LIVE_POINTS = 2000;

export function RunView({ api, id }: { api: Services; id: number }) {
  const [detail, reload] = useLoad(() => api.getRun(id), [api, id]);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  /** Progress samples as they arrive: the live series. */
  const [trail, setTrail] = useState<ProgressEvent[]>([]);
  /** The model's series as recorded so far (link bandwidth, device memory, faults, ...). */
  const [series, setSeries] = useState<SeriesEvent | null>(null);
  /** Whether these services run it; false for a run started by another process (the CLI). */
  const [ownRun, setOwnRun] = useState<boolean | null>(null);

  useEffect(() => {
    const unsubscribe = api.onRunEvent((event) => {
      if (!('runId' in event) || event.runId !== id) return;
      setOwnRun(true);
      if (event.type === 'series') setSeries(event);
      else if (event.type === 'progress') {
        setProgress(event);
        // A long run halves its history rather than growing without bound.
        setTrail((t) => [...(t.length >= MAX_LIVE_POINTS ? t.filter((_, i) => i % 2 === 0) : t), event]);
      } else if (event.type === 'ended') {
        // The worker reports progress at intervals, so its last report is rarely 100 %:
        // a run that finished is shown complete until its results load.
        if (event.status === 'done') setProgress((p) => (p ? { ...p, fraction: 1, etaMs: 0 } : p));
        reload();
      }
    });
    // A run already under way (the page was opened or reloaded mid-run): its latest progress.
    void api.activeRuns().then((runs) => {
      const mine = runs.find((r) => r.runId === id);
      // An event already proved it ours; a run that ended meanwhile is not listed.
      setOwnRun((own) => own === true || mine !== undefined);
      if (mine?.progress) setProgress((p) => p ?? mine.progress);
      if (mine?.series) setSeries((s) => s ?? mine.series);
      if (!mine) reload();
    });
    return unsubscribe;
  }, [api, id, reload]);

  if (detail.state === 'loading') return <section className="view muted">Loading run {id}…</section>;
  if (detail.state === 'error') {
    return (
      <section className="view">
        <p className="notice error">
          Could not load run {id}: {detail.message}
        </p>
      </section>
    );
  }
  const run = detail.value;
  if (run === null) {
    return (
      <section className="view">
        <h1>Run {id}</h1>
        <p className="muted">Run {id} is not in the database (deleted, or never recorded).</p>
      </section>
    );
  }
  if (run.status === 'running' && ownRun === false) {
    return (
      <section className="view">
        <h1>
          Run {id}: {run.name}
        </h1>
        <p className="notice">
          This run is running in another process (the <code>hetmem</code> command, or another workbench on the same
          database), so its progress cannot be shown or cancelled here.{' '}
          <button type="button" onClick={reload}>
            Check again
          </button>
        </p>
      </section>
    );
  }
  if (run.status === 'running') {
    return <Progress api={api} id={id} name={run.name} progress={progress} trail={trail} series={series} />;
  }
  return <Dashboard api={api} run={run} onChange={reload} />;
}

function Progress({
  api,
  id,
  name,
  progress,
  trail,
  series,
}: {
  api: Services;
  id: number;
  name: string;
  progress: ProgressEvent | null;
  trail: ProgressEvent[];
  series: SeriesEvent | null;
}) {
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const percent = Math.round((progress?.fraction ?? 0) * 1000) / 10;
  const simulated = useMemo(
    () =>
      liveOption(
        trail.map((p) => [p.wallMs / 1000, p.simTimeNs / 1000]),
        'simulated µs',
      ),
    [trail],
  );
  // The rate between consecutive samples, which shows the phases that are costly to simulate.
  const rate = useMemo(
    () =>
      liveOption(
        trail.slice(1).map((p, i) => {
          const before = trail[i]!;
          const seconds = (p.wallMs - before.wallMs) / 1000;
          return [p.wallMs / 1000, seconds > 0 ? (p.events - before.events) / seconds : 0];
        }),
        'events/s',
      ),
    [trail],
  );
  return (
    <section className="view run-progress">
      <header className="view-header">
        <h1>
          Run {id}: {name}
        </h1>
        <span className="status status-running">running</span>
        <span className="spacer" />
        <button
          type="button"
          disabled={cancelling}
          onClick={async () => {
            setCancelling(true);
            try {
              await api.cancelRun(id);
            } catch (e) {
              setError(messageOf(e));
              setCancelling(false);
            }
          }}
        >
          {cancelling ? 'Cancelling…' : 'Cancel run'}
        </button>
      </header>
      {error && <p className="notice error">{error}</p>}
      <div
        className="progress"
        role="progressbar"
        aria-label="Run progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
        <span className="progress-text">{percent.toFixed(1)} %</span>
      </div>
      <dl className="facts progress-facts">
        <dt>Phase</dt>
        <dd>{progress?.phase || '—'}</dd>
        <dt>Simulated time</dt>
        <dd>{progress ? formatDurationNs(progress.simTimeNs) : '—'}</dd>
        <dt>Events</dt>
        <dd>
          {progress
            ? `${progress.events.toLocaleString('en-US')} (${Math.round(progress.eventsPerSecond).toLocaleString('en-US')} events/s)`
            : '—'}
        </dd>
        <dt>Elapsed / left</dt>
        <dd>
          {progress ? formatWallMs(progress.wallMs) : '—'} /{' '}
          {progress?.etaMs != null ? formatWallMs(progress.etaMs) : 'estimating…'}
        </dd>
      </dl>
      <h2>Series so far</h2>
      {series === null ? (
        <p className="muted">The model's series appear here within a second of the run starting.</p>
      ) : (
        <div className="chart-grid">
          {series.series.map((s) => (
            <figure key={s.name}>
              <figcaption>
                <code>{s.name}</code> ({s.unit}), up to {formatDurationNs(series.simTimeNs)}
              </figcaption>
              <Chart
                option={{ ...seriesOption([{ label: s.name, series: s }]), animation: false }}
                label={`${s.name} so far, live`}
                height={220}
              />
            </figure>
          ))}
        </div>
      )}
      <h2>Simulator</h2>
      <div className="chart-grid">
        <figure>
          <figcaption>Simulated time so far</figcaption>
          <Chart option={simulated} label="Simulated time against wall time, live" height={220} />
        </figure>
        <figure>
          <figcaption>Simulator events per second</figcaption>
          <Chart option={rate} label="Events per second, live" height={220} />
        </figure>
      </div>
    </section>
  );
}
