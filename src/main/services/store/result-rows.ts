/**
 * RunResult <-> rows. Writing assumes the caller holds a transaction (finishRun's), so
 * a result is stored entirely or not at all. Reading rebuilds the object exactly: keys
 * and arrays come back in rowid (insertion) order, series samples as float64 bits.
 * One loss: SQLite REAL columns (metrics, attribution) read -0 back as 0.
 */
import type { Attribution, AttributionCategory, Histogram, RunResult, Timeline } from '../../../sim/result/types.js';
import type { Db, Statement } from './schema.js';

/**
 * A timeline whose tracks are already the JSON text the store keeps. A sweep's pool thread
 * sends it so: a megabyte string crosses to the main thread (or over Redis) at copy speed,
 * where the same tracks as objects take milliseconds to clone, walk and write out there.
 */
export interface EncodedTimeline {
  maxIntervals: number;
  tracksJson: string;
}

/** What finishRun stores: a result whose timeline may come already encoded. */
export type StorableResult = Omit<RunResult, 'timeline'> & { timeline?: Timeline | EncodedTimeline };

/** The text writeResultRows would store for these tracks, made where it is cheapest. */
export function encodeTimeline(timeline: Timeline): EncodedTimeline {
  return { maxIntervals: timeline.maxIntervals, tracksJson: JSON.stringify(timeline.tracks) };
}

/** `prepare` gives the statement of an SQL text (the store's, cached). */
export function writeResultRows(prepare: (sql: string) => Statement, runId: number, result: StorableResult): void {
  const metric = prepare('INSERT INTO metrics (run_id, name, value, unit) VALUES (?, ?, ?, ?)');
  for (const [name, m] of Object.entries(result.metrics)) {
    // NaN binds as NULL (SQLite has no NaN); readResultRows turns NULL back into NaN.
    metric.run(runId, name, m.value, m.unit);
  }
  const series = prepare('INSERT INTO series (run_id, name, unit, interval_ns, values_f64) VALUES (?, ?, ?, ?, ?)');
  for (const s of result.series) series.run(runId, s.name, s.unit, s.intervalNs, encodeF64(s.values));
  const hist = prepare('INSERT INTO histograms (run_id, name, unit, json) VALUES (?, ?, ?, ?)');
  for (const h of result.histograms) {
    const { bounds, counts, count, sum, min, max } = h;
    hist.run(runId, h.name, h.unit, numbersToJson({ bounds, counts, count, sum, min, max }));
  }
  const attr = prepare(
    'INSERT INTO attribution (run_id, agent, contexts, total_ns, category, ns) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const a of result.attribution) {
    for (const [category, ns] of Object.entries(a.ns)) attr.run(runId, a.agent, a.contexts, a.totalNs, category, ns);
  }
  prepare('INSERT INTO results_extra (run_id, experiment_name, ops_json, snapshots_json) VALUES (?, ?, ?, ?)').run(
    runId,
    result.experimentName,
    JSON.stringify(result.ops),
    JSON.stringify(result.snapshots),
  );
  const timeline = result.timeline;
  if (timeline) {
    const tracksJson = 'tracksJson' in timeline ? timeline.tracksJson : JSON.stringify(timeline.tracks);
    prepare('INSERT INTO timelines (run_id, max_intervals, tracks_json) VALUES (?, ?, ?)').run(
      runId,
      timeline.maxIntervals,
      tracksJson,
    );
  }
}

/** The run-level fields of a RunResult live in the runs row. */
export interface RunHeader {
  id: number;
  seed: number;
  model_version: string;
  strategy: string;
  workload: string;
}

export function readResultRows(db: Db, run: RunHeader): RunResult {
  const extra = db
    .prepare('SELECT experiment_name, ops_json, snapshots_json FROM results_extra WHERE run_id = ?')
    .get(run.id) as { experiment_name: string; ops_json: string; snapshots_json: string } | undefined;
  if (!extra) {
    throw new Error(`run ${run.id} is marked done but has no results_extra row; the database is damaged`);
  }
  const metrics: RunResult['metrics'] = {};
  const metricRows = db
    .prepare('SELECT name, value, unit FROM metrics WHERE run_id = ? ORDER BY rowid')
    .all(run.id) as { name: string; value: number | null; unit: string }[];
  for (const m of metricRows) metrics[m.name] = { value: m.value ?? NaN, unit: m.unit };

  const seriesRows = db
    .prepare('SELECT name, unit, interval_ns, values_f64 FROM series WHERE run_id = ? ORDER BY rowid')
    .all(run.id) as { name: string; unit: string; interval_ns: number; values_f64: Buffer }[];
  const histRows = db
    .prepare('SELECT name, unit, json FROM histograms WHERE run_id = ? ORDER BY rowid')
    .all(run.id) as { name: string; unit: string; json: string }[];
  const attrRows = db
    .prepare('SELECT agent, contexts, total_ns, category, ns FROM attribution WHERE run_id = ? ORDER BY rowid')
    .all(run.id) as { agent: string; contexts: number; total_ns: number; category: string; ns: number }[];

  const agents = new Map<string, Attribution>();
  for (const r of attrRows) {
    let a = agents.get(r.agent);
    if (!a) {
      a = { agent: r.agent, contexts: r.contexts, totalNs: r.total_ns, ns: {} as Attribution['ns'] };
      agents.set(r.agent, a);
    }
    a.ns[r.category as AttributionCategory] = r.ns;
  }

  const result: RunResult = {
    modelVersion: run.model_version,
    experimentName: extra.experiment_name,
    strategy: run.strategy,
    workload: run.workload,
    seed: run.seed,
    metrics,
    series: seriesRows.map((s) => ({
      name: s.name,
      unit: s.unit,
      intervalNs: s.interval_ns,
      values: decodeF64(s.values_f64),
    })),
    histograms: histRows.map((h) => ({ name: h.name, unit: h.unit, ...(numbersFromJson(h.json) as HistogramBody) })),
    attribution: [...agents.values()],
    ops: JSON.parse(extra.ops_json),
    snapshots: JSON.parse(extra.snapshots_json),
  };
  const timeline = readTimeline(db, run.id);
  if (timeline) result.timeline = timeline;
  return result;
}

/** A run's component timeline, or null when it recorded none (or was stored before timelines existed). */
export function readTimeline(db: Db, runId: number): Timeline | null {
  const row = db.prepare('SELECT max_intervals, tracks_json FROM timelines WHERE run_id = ?').get(runId) as
    { max_intervals: number; tracks_json: string } | undefined;
  return row ? { maxIntervals: row.max_intervals, tracks: JSON.parse(row.tracks_json) } : null;
}

type HistogramBody = Omit<Histogram, 'name' | 'unit'>;

/** Little-endian whatever the host, so a file moves between machines unchanged. */
export function encodeF64(values: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 8);
  for (let i = 0; i < values.length; i++) buf.writeDoubleLE(values[i], i * 8);
  return buf;
}

export function decodeF64(buf: Uint8Array): number[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Array<number>(buf.byteLength >>> 3);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/**
 * JSON for documents made only of numbers (histogram bodies): NaN and +-Infinity, which
 * JSON.stringify would turn into null, are kept as the strings "NaN", "Infinity" and
 * "-Infinity". Safe only because such documents hold no strings of their own.
 */
function numbersToJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

function numbersFromJson(text: string): unknown {
  return JSON.parse(text, (_k, v) => (v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v));
}
