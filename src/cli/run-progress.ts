/**
 * The progress bar of `hetmem run` on a terminal (cli-progress): the bar, the share done,
 * wall time elapsed and left, simulator events per second, simulated time and the phase,
 * fitted to the terminal's width at every redraw (a resized terminal gets a resized bar).
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../sim/result/types.js';
import { formatNs, formatNumber, printable } from './format.js';

/** Fraction below which a time-left estimate is noise (as the app's run view). */
const MIN_FRACTION_FOR_ETA = 0.02;
const MIN_BAR = 10;
const MAX_BAR = 40;

export interface RunProgressState {
  fraction: number;
  elapsedMs: number;
  /** Events per wall second over the run so far. */
  eventsPerSecond: number;
  simTimeNs: number;
  phase: string;
}

/** Wall time as a terminal shows it: "850ms", "12.3s", "4m05s", "2h03m". */
export function formatWall(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** One line of at most `width - 1` characters (the last column would wrap on some terminals). */
export function progressLine(state: RunProgressState, width: number): string {
  const f = Math.max(0, Math.min(1, state.fraction));
  const left = f >= MIN_FRACTION_FOR_ETA ? formatWall((state.elapsedMs * (1 - f)) / f) : f >= 1 ? formatWall(0) : '?';
  const tail = [
    `${(f * 100).toFixed(0).padStart(3)}%`,
    `${formatWall(state.elapsedMs)} elapsed`,
    `${left} left`,
    `${formatNumber(Math.round(state.eventsPerSecond))} events/s`,
    `sim ${formatNs(state.simTimeNs)}`,
    printable(state.phase),
  ].join(' | ');
  const room = width - 1;
  const barSize = Math.max(MIN_BAR, Math.min(MAX_BAR, room - tail.length - 3));
  const bar = cliProgress.Format.BarFormat(f, {
    barsize: barSize,
    barCompleteString: '#'.repeat(barSize),
    barIncompleteString: '-'.repeat(barSize),
    barGlue: '',
  });
  return `[${bar}] ${tail}`.slice(0, Math.max(0, room));
}

/** Draws on `stream` only when it is a terminal; update() with each progress report, stop() at the end. */
export class RunProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private readonly started = performance.now();
  private active = false;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar({
      stream,
      format: (_options, params, payload: RunProgressState) => progressLine(payload, params.maxWidth),
      clearOnComplete: true,
      fps: 10,
    });
  }

  update(p: Progress): void {
    const elapsedMs = performance.now() - this.started;
    const state: RunProgressState = {
      fraction: p.fraction,
      elapsedMs,
      eventsPerSecond: elapsedMs > 0 ? (p.events * 1000) / elapsedMs : 0,
      simTimeNs: p.simTimeNs,
      phase: p.phase,
    };
    if (!this.active) {
      this.active = true;
      this.bar.start(1, p.fraction, state);
    } else this.bar.update(p.fraction, state);
  }

  /** Removes the bar from the screen. */
  stop(): void {
    if (this.active) this.bar.stop();
    this.active = false;
  }
}
