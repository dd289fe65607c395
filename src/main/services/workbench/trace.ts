/**
 * Runs as Chrome trace-event JSON (the "JSON Object Format"; opens in Perfetto's UI and
 * chrome://tracing). Per run: one process for the run itself (its phases or script
 * operations as slices, unexpected outcomes as instant events, every series as a counter
 * track) and one process per agent of its component timeline (each device, the host),
 * with a thread per component whose busy intervals are complete ("X") events. Times are
 * microseconds, as the format wants.
 */
import type { RunResult, TimelineTrack } from '../../../sim/result/types.js';
import type { Store } from '../store/store.js';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'C' | 'M' | 'i';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

/** Process ids: a run's own is runId * PIDS_PER_RUN, its agents' the ones after it. */
export const PIDS_PER_RUN = 1000;
/** The run process's thread of phases (tid 0 holds the counters). */
export const PHASES_TID = 1;

/** Slice names per kind of component: what one of its intervals is. */
const SLICE_NAME: Record<TimelineTrack['kind'], string> = {
  link: 'busy',
  'dram-channel': 'busy',
  'host-memory': 'busy',
  'copy-engine': 'copy chunk',
  'fault-handler': 'fault batch',
};

export function exportRunsToTrace(store: Store, runIds: readonly number[]): string {
  store.requireRuns(runIds);
  const meta: TraceEvent[] = [];
  const timed: TraceEvent[] = [];
  for (const id of runIds) {
    const run = store.getRun(id);
    if (run.result) runEvents(id, run.name, run.result, meta, timed);
  }
  // Metadata first, then by time (a stable sort keeps each track's order among equal times).
  timed.sort((a, b) => a.ts - b.ts);
  return JSON.stringify({ traceEvents: [...meta, ...timed], displayTimeUnit: 'ns' });
}

function runEvents(id: number, name: string, result: RunResult, meta: TraceEvent[], timed: TraceEvent[]): void {
  const pid = id * PIDS_PER_RUN;
  const processName = (p: number, label: string, sortIndex: number) => {
    meta.push({ name: 'process_name', ph: 'M', ts: 0, pid: p, tid: 0, args: { name: label } });
    meta.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid: p, tid: 0, args: { sort_index: sortIndex } });
  };
  const threadName = (p: number, tid: number, label: string) => {
    meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: p, tid, args: { name: label } });
    meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: p, tid, args: { sort_index: tid } });
  };
  processName(pid, `run ${id}: ${name}`, pid);
  threadName(pid, PHASES_TID, 'phases');
  for (const op of result.ops) {
    timed.push({
      name: op.op,
      ph: 'X',
      ts: op.startNs / 1000,
      dur: op.durationNs / 1000,
      pid,
      tid: PHASES_TID,
      args: { faults: op.faults, h2dBytes: op.h2dBytes, d2hBytes: op.d2hBytes, error: op.error ?? null },
    });
    if (op.unexpected) {
      timed.push({
        name: `unexpected: ${op.error ?? 'ok'} (expected ${op.expected ?? 'ok'})`,
        ph: 'i',
        ts: op.startNs / 1000,
        pid,
        tid: PHASES_TID,
        s: 't',
      });
    }
  }
  for (const s of result.series) {
    s.values.forEach((value, i) => {
      if (!Number.isFinite(value)) return;
      timed.push({
        name: `${s.name} (${s.unit})`,
        ph: 'C',
        ts: (i * s.intervalNs) / 1000,
        pid,
        tid: 0,
        args: { value },
      });
    });
  }

  const agents = new Map<string, { pid: number; threads: number }>();
  for (const track of result.timeline?.tracks ?? []) {
    let agent = agents.get(track.agent);
    if (!agent) {
      agent = { pid: pid + agents.size + 1, threads: 0 };
      agents.set(track.agent, agent);
      processName(agent.pid, `run ${id}: ${track.agent}`, agent.pid);
    }
    const tid = ++agent.threads;
    threadName(agent.pid, tid, track.component);
    trackEvents(track, agent.pid, tid, timed);
  }
}

function trackEvents(track: TimelineTrack, pid: number, tid: number, out: TraceEvent[]): void {
  const name = SLICE_NAME[track.kind];
  for (let i = 0; i < track.startNs.length; i++) {
    const lengthNs = track.endNs[i] - track.startNs[i];
    const args: Record<string, unknown> = {};
    if (track.bytes) args.bytes = track.bytes[i];
    if (track.count && track.countUnit) args[track.countUnit] = track.count[i];
    // An interval that holds closed idle gaps says how busy it really was.
    if (track.busyNs[i] < lengthNs) args.busy_fraction = lengthNs > 0 ? track.busyNs[i] / lengthNs : 1;
    out.push({ name, ph: 'X', ts: track.startNs[i] / 1000, dur: lengthNs / 1000, pid, tid, args });
  }
}
