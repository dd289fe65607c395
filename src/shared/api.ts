/**
 * The Api contract between the UI and the services: one request per channel, each with a
 * zod schema for its arguments (validated by the transport before any service sees them)
 * and a schema for its response, plus the run events the services push (progress, end).
 *
 * Two transports implement `HetmemApi` and `RunEventSource` for the renderer: the
 * Electron preload (`window.hetmem`, over ipcRenderer) and the web client of `npm run
 * serve` (HTTP for requests, a WebSocket for events). Both carry every response in an
 * `ApiResult` envelope, so a failure arrives as a code and a plain sentence rather than
 * as a transport's wrapped exception text.
 *
 * Imports: zod and src/sim (types) only.
 */
import { z } from 'zod';
import type { Attribution, Histogram, Metrics, OpReport, Series, Snapshot, Timeline } from '../sim/result/types.js';
import { CHANNELS, type RequestName } from './channels.js';

export { CHANNELS, RUN_EVENT_CHANNEL, type RequestName } from './channels.js';
export type {
  Attribution,
  Histogram,
  Metrics,
  OpReport,
  Series,
  Snapshot,
  Timeline,
  TimelineTrack,
} from '../sim/result/types.js';

// ---------------------------------------------------------------------------------------
// Data

/** A run is `running` until it ends in one of the other three states; it never goes back. */
export const RUN_STATUSES = ['running', 'done', 'failed', 'cancelled'] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** An instant as an ISO 8601 UTC string, e.g. "2026-11-24T07:28:00.000Z". */
const isoInstant = z.iso.datetime({ offset: true });

/**
 * Any JS number, NaN and the infinities included: results hold them (a histogram's last
 * bound is Infinity; a metric may be NaN), and z.number() refuses them.
 */
const anyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const metricSchema = z.object({ value: anyNumber, unit: z.string() });

/**
 * Metrics a run list shows beside each run, chosen by name so that metrics the model adds
 * later (`gpu1.device.page_faults`) are picked up without a code change.
 */
export const KEY_METRIC_PATTERNS: readonly RegExp[] = [
  /^sim\.time_ns$/,
  /(^|\.)bandwidth_GBps$/,
  /(^|\.)page_faults$/,
  /^link\.(h2d|d2h)_bytes$/,
];
export const isKeyMetric = (name: string): boolean => KEY_METRIC_PATTERNS.some((p) => p.test(name));
/** Key metrics in the order of their patterns (simulated time first), then by name. */
export function compareKeyMetrics(a: string, b: string): number {
  const rank = (n: string) => KEY_METRIC_PATTERNS.findIndex((p) => p.test(n));
  return rank(a) - rank(b) || a.localeCompare(b);
}

const tagSchema = z
  .string()
  .trim()
  .min(1, 'a tag is a non-empty string')
  .max(64, 'a tag has at most 64 characters')
  .refine((t) => !/[,\n]/.test(t), 'a tag holds no comma or line break');

/** One row of the run list. */
export const runSummarySchema = z.object({
  id: z.number().int().positive(),
  /** The experiment's `name`. */
  name: z.string(),
  strategy: z.string(),
  workload: z.string(),
  seed: z.number().int().nonnegative(),
  status: runStatusSchema,
  startedAt: isoInstant,
  /** Null while the run is running. */
  endedAt: isoInstant.nullable(),
  /** Wall-clock time the run took on this machine; null while it is running. */
  wallMs: z.number().nonnegative().nullable(),
  /** Why the run failed or was cancelled, in a plain sentence; null otherwise. */
  error: z.string().nullable(),
  tags: z.array(z.string()),
  /** The run's metrics that match KEY_METRIC_PATTERNS (empty unless done). */
  keyMetrics: z.record(z.string(), metricSchema),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

const seriesSchema = z.object({
  name: z.string(),
  unit: z.string(),
  intervalNs: z.number(),
  values: z.array(anyNumber),
});
const histogramSchema = z.object({
  name: z.string(),
  unit: z.string(),
  bounds: z.array(anyNumber),
  counts: z.array(z.number()),
  count: z.number(),
  sum: anyNumber,
  min: anyNumber,
  max: anyNumber,
});
const attributionSchema = z.object({
  agent: z.string(),
  contexts: z.number(),
  totalNs: z.number(),
  ns: z.record(z.string(), anyNumber),
});
// Loose: fields the model adds later reach the UI.
const opSchema = z.looseObject({
  index: z.number(),
  op: z.string(),
  startNs: anyNumber,
  durationNs: anyNumber,
  faults: z.number(),
  h2dBytes: z.number(),
  d2hBytes: z.number(),
});
const snapshotSchema = z.looseObject({ opIndex: z.number(), region: z.string(), pages: z.array(z.string()) });

/** Everything the store holds about one run. Results are empty for a run that did not succeed. */
export const runDetailSchema = runSummarySchema.extend({
  modelVersion: z.string(),
  /** Hash of the experiment document as run, so equal experiments can be recognised. */
  experimentHash: z.string(),
  /** The experiment document as run (validated, defaults filled in). */
  experiment: z.unknown(),
  metrics: z.record(z.string(), metricSchema),
  series: z.array(seriesSchema),
  histograms: z.array(histogramSchema),
  attribution: z.array(attributionSchema),
  /** The workload's phases (or a script's operations), in order. */
  ops: z.array(opSchema),
  snapshots: z.array(snapshotSchema),
});
// The result parts are typed by src/sim so that both sides agree with the model's own types.
export type RunDetail = Omit<
  z.infer<typeof runDetailSchema>,
  'metrics' | 'series' | 'histograms' | 'attribution' | 'ops' | 'snapshots'
> & {
  metrics: Metrics;
  series: Series[];
  histograms: Histogram[];
  attribution: Attribution[];
  ops: OpReport[];
  snapshots: Snapshot[];
};

// Loose: fields the model adds later reach the UI.
const timelineTrackSchema = z.looseObject({
  component: z.string(),
  agent: z.string(),
  kind: z.string(),
  startNs: z.array(z.number()),
  endNs: z.array(z.number()),
  busyNs: z.array(z.number()),
  bytes: z.array(z.number()).optional(),
  count: z.array(z.number()).optional(),
  countUnit: z.string().optional(),
  closedGaps: z.number(),
  closedGapNs: z.number(),
});
/** A run's component timeline (sim/result/types.ts): busy intervals of each link direction, copy engine, ... */
export const timelineSchema = z.object({ maxIntervals: z.number(), tracks: z.array(timelineTrackSchema) });

/** A run as many-run comparisons need it: its experiment and metrics, without series. */
export const comparedRunSchema = runSummarySchema.extend({
  experiment: z.unknown(),
  metrics: z.record(z.string(), metricSchema),
});
export type ComparedRun = Omit<z.infer<typeof comparedRunSchema>, 'metrics'> & { metrics: Metrics };

/** What the UI needs to know about the services it talks to. */
export const infoSchema = z.object({
  /** The SQLite file the services read and write; the CLI's `--db` takes the same path. */
  databasePath: z.string(),
  modelVersion: z.string(),
});
export type Info = z.infer<typeof infoSchema>;

export const presetsSchema = z.object({
  hardware: z.array(z.object({ name: z.string(), description: z.string() })),
  /** Example experiments with their text, comments and all. */
  examples: z.array(z.object({ name: z.string(), title: z.string(), description: z.string(), text: z.string() })),
});
export type Presets = z.infer<typeof presetsSchema>;

/**
 * A problem with an experiment, as `hetmem validate` words it, with where it is in the
 * text (UTF-16 offsets) so an editor can underline it.
 */
export const experimentIssueSchema = z.object({
  /** JSON path, e.g. "hardware.link.lanes"; '' for a syntax error. */
  path: z.string(),
  message: z.string(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});
export type ExperimentIssue = z.infer<typeof experimentIssueSchema>;

export const validationSchema = z.object({ issues: z.array(experimentIssueSchema) });
export type Validation = z.infer<typeof validationSchema>;

export const startRunResultSchema = z.discriminatedUnion('ok', [
  /**
   * Accepted: the run started at once (`runId`), or waits in the queue (`runId` null) until
   * a run ends; `queueId` names it either way (events `queued`, `started`, `dequeued`).
   */
  z.object({
    ok: z.literal(true),
    queueId: z.number().int().positive(),
    runId: z.number().int().positive().nullable(),
  }),
  /** Nothing was recorded: the experiment is invalid. */
  z.object({ ok: z.literal(false), issues: z.array(experimentIssueSchema) }),
]);
export type StartRunResult = z.infer<typeof startRunResultSchema>;

export const EXPORT_FORMATS = ['sqlite', 'csv', 'csv-wide', 'json', 'trace'] as const;
export const exportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof exportFormatSchema>;

/** A file travelling through the Api (export, import), its bytes in base64. */
export const fileSchema = z.object({
  fileName: z.string().min(1).max(255),
  mediaType: z.string(),
  base64: z.base64(),
});
export type FilePayload = z.infer<typeof fileSchema>;

export const importReportSchema = z.object({ imported: z.number().int(), skipped: z.number().int() });
export type ImportReport = z.infer<typeof importReportSchema>;

/** A sweep in the store: the runs tagged `sweep:<id>`. */
export const sweepListingSchema = z.object({
  id: z.string(),
  name: z.string(),
  runs: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
});
export type SweepListing = z.infer<typeof sweepListingSchema>;

/** A sweep against one metric, for the sweep view: a point per run, its axis values (in `axes` order) and value. */
export const sweepViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** JSON paths of the swept fields. */
  axes: z.array(z.string()),
  /** Metric names of the sweep's runs; `metric` is the one the values are of. */
  metrics: z.array(z.string()),
  metric: z.string(),
  unit: z.string(),
  points: z.array(
    z.object({
      runId: z.number().int().positive(),
      status: runStatusSchema,
      seed: z.number().int().nonnegative(),
      values: z.array(z.unknown()),
      /** Null for a run that did not succeed (or a NaN value). */
      value: z.number().nullable(),
    }),
  ),
  /** While these services run the sweep: points to run, and recorded so far. */
  progress: z.object({ total: z.number().int(), done: z.number().int(), failed: z.number().int() }).nullable(),
});
export type SweepView = z.infer<typeof sweepViewSchema>;

export const startSweepResultSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    sweepId: z.string(),
    /** Points of the sweep, and how many were already stored (not run again). */
    points: z.number().int(),
    already: z.number().int(),
  }),
  /** Nothing was recorded: the experiment or one of its points is invalid. */
  z.object({ ok: z.literal(false), issues: z.array(experimentIssueSchema) }),
]);
export type StartSweepResult = z.infer<typeof startSweepResultSchema>;

// ---------------------------------------------------------------------------------------
// Events (services to UI)

const progressEventSchema = z.object({
  type: z.literal('progress'),
  runId: z.number().int().positive(),
  /** Estimated share of the run done, 0..1. */
  fraction: z.number(),
  simTimeNs: z.number(),
  events: z.number(),
  phase: z.string(),
  wallMs: z.number(),
  /** Simulator events per wall-clock second, over the whole run so far. */
  eventsPerSecond: z.number(),
  /** Estimated wall time left; null until it can be estimated. */
  etaMs: z.number().nullable(),
});
/** The result's series as the model has recorded them so far, while it runs. */
const seriesEventSchema = z.object({
  type: z.literal('series'),
  runId: z.number().int().positive(),
  simTimeNs: z.number(),
  series: z.array(seriesSchema),
});
const queueId = z.number().int().positive();
export const runEventSchema = z.discriminatedUnion('type', [
  /** Waiting for a free slot; `position` 1 is next. Runs start in the order they were queued. */
  z.object({ type: z.literal('queued'), queueId, name: z.string(), position: z.number().int().positive() }),
  /** Left the queue without running: cancelled (error null), or it could not start; nothing was recorded. */
  z.object({ type: z.literal('dequeued'), queueId, error: z.string().nullable() }),
  z.object({ type: z.literal('started'), runId: z.number().int().positive(), queueId, name: z.string() }),
  progressEventSchema,
  seriesEventSchema,
  z.object({
    type: z.literal('ended'),
    runId: z.number().int().positive(),
    status: z.enum(['done', 'failed', 'cancelled']),
    error: z.string().nullable(),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;
export type ProgressEvent = z.infer<typeof progressEventSchema>;
export type SeriesEvent = Omit<z.infer<typeof seriesEventSchema>, 'series'> & { series: Series[] };

/**
 * Runs queued or in progress in these services: queued ones in the order they will start
 * (with their position, 1 next), then running ones with their latest progress and series
 * (null before the first).
 */
export const activeRunSchema = z.object({
  queueId,
  state: z.enum(['queued', 'running']),
  /** Null while queued: the run is recorded when it starts. */
  runId: z.number().int().positive().nullable(),
  name: z.string(),
  strategy: z.string(),
  workload: z.string(),
  position: z.number().int().positive().nullable(),
  progress: progressEventSchema.nullable(),
  series: seriesEventSchema.nullable(),
});
export type ActiveRun = z.infer<typeof activeRunSchema>;

export interface RunEventSource {
  /** Calls `listener` with every run event until the returned function is called. */
  onRunEvent(listener: (event: RunEvent) => void): () => void;
}

// ---------------------------------------------------------------------------------------
// Requests

export const listRunsFilterSchema = z.strictObject({
  status: runStatusSchema.optional(),
  strategy: z.string().optional(),
  workload: z.string().optional(),
  tag: z.string().optional(),
  /** Case-insensitive part of the run's name. */
  nameContains: z.string().optional(),
});
export type ListRunsFilter = z.infer<typeof listRunsFilterSchema>;

const runId = z.number().int().positive();
const runIds = z.array(runId).min(1, 'choose at least one run').max(10_000);
/** Experiments are text (JSON with comments); 4 MiB is far beyond any hand-written one. */
const experimentText = z.string().max(4 << 20, 'an experiment is at most 4 MiB of text');

/**
 * Each request: its channel, a schema for its argument list (a tuple, so extra arguments
 * are rejected too) and a schema for its response.
 */
export const REQUESTS = {
  getInfo: { channel: CHANNELS.getInfo, args: z.tuple([]), response: infoSchema },
  listRuns: {
    channel: CHANNELS.listRuns,
    args: z.tuple([listRunsFilterSchema.optional()]),
    response: z.array(runSummarySchema),
  },
  getRun: { channel: CHANNELS.getRun, args: z.tuple([runId]), response: runDetailSchema.nullable() },
  /** Null when the run recorded no timeline (stored before timelines existed, or with sampling.timelineIntervals 0). */
  getTimeline: { channel: CHANNELS.getTimeline, args: z.tuple([runId]), response: timelineSchema.nullable() },
  /** In the order asked; unknown ids are an error. */
  compareRuns: { channel: CHANNELS.compareRuns, args: z.tuple([runIds]), response: z.array(comparedRunSchema) },
  listPresets: { channel: CHANNELS.listPresets, args: z.tuple([]), response: presetsSchema },
  validateExperiment: {
    channel: CHANNELS.validateExperiment,
    args: z.tuple([experimentText]),
    response: validationSchema,
  },
  startRun: { channel: CHANNELS.startRun, args: z.tuple([experimentText]), response: startRunResultSchema },
  /** True when the run was running here and is now being cancelled. */
  cancelRun: { channel: CHANNELS.cancelRun, args: z.tuple([runId]), response: z.boolean() },
  /** True when the run was waiting in the queue and is now removed from it. */
  dequeueRun: { channel: CHANNELS.dequeueRun, args: z.tuple([queueId]), response: z.boolean() },
  activeRuns: { channel: CHANNELS.activeRuns, args: z.tuple([]), response: z.array(activeRunSchema) },
  /** The run's tags afterwards. */
  tagRun: {
    channel: CHANNELS.tagRun,
    args: z.tuple([
      runId,
      z.strictObject({ add: z.array(tagSchema).default([]), remove: z.array(z.string()).default([]) }),
    ]),
    response: z.array(z.string()),
  },
  /** How many runs were deleted. Running runs cannot be deleted. */
  deleteRuns: { channel: CHANNELS.deleteRuns, args: z.tuple([runIds]), response: z.number().int() },
  exportRuns: { channel: CHANNELS.exportRuns, args: z.tuple([runIds, exportFormatSchema]), response: fileSchema },
  importDatabase: { channel: CHANNELS.importDatabase, args: z.tuple([fileSchema]), response: importReportSchema },
  listSweeps: { channel: CHANNELS.listSweeps, args: z.tuple([]), response: z.array(sweepListingSchema) },
  getSweep: {
    channel: CHANNELS.getSweep,
    args: z.tuple([z.string().regex(/^[0-9a-f]{12}$/, 'a sweep id is 12 hex digits'), z.string().max(500)]),
    response: sweepViewSchema.nullable(),
  },
  startSweep: { channel: CHANNELS.startSweep, args: z.tuple([experimentText]), response: startSweepResultSchema },
} as const satisfies Record<RequestName, { channel: string; args: z.ZodTuple; response: z.ZodType }>;

/** The interface both transports implement and the services answer. */
export interface HetmemApi {
  getInfo(): Promise<Info>;
  listRuns(filter?: ListRunsFilter): Promise<RunSummary[]>;
  /** The run, or null when there is no run with that id. */
  getRun(id: number): Promise<RunDetail | null>;
  /**
   * The run's component timeline (kept out of getRun: it can be megabytes), or null when it
   * recorded none. An unknown run is an error.
   */
  getTimeline(id: number): Promise<Timeline | null>;
  /** Experiments and metrics of many runs at once (tens to thousands), for comparing them. */
  compareRuns(ids: number[]): Promise<ComparedRun[]>;
  listPresets(): Promise<Presets>;
  validateExperiment(text: string): Promise<Validation>;
  /**
   * Validates and queues a run; it is recorded and starts in a worker thread when fewer
   * runs than the services' concurrency (default 1) are running. Progress comes as run events.
   */
  startRun(text: string): Promise<StartRunResult>;
  cancelRun(id: number): Promise<boolean>;
  /** Removes a run that waits in the queue (by its queueId) before it starts. */
  dequeueRun(queueId: number): Promise<boolean>;
  activeRuns(): Promise<ActiveRun[]>;
  tagRun(id: number, change: { add?: string[]; remove?: string[] }): Promise<string[]>;
  deleteRuns(ids: number[]): Promise<number>;
  exportRuns(ids: number[], format: ExportFormat): Promise<FilePayload>;
  importDatabase(file: FilePayload): Promise<ImportReport>;
  listSweeps(): Promise<SweepListing[]>;
  /** The sweep against `metric` ('' or an unknown name: simulated time), or null when no run has its tag. */
  getSweep(id: string, metric: string): Promise<SweepView | null>;
  /** Plans the sweep (every point validated) and runs the points not yet stored on a thread pool. */
  startSweep(text: string): Promise<StartSweepResult>;
}

// Compile-time checks that REQUESTS, CHANNELS and HetmemApi name the same requests with
// the same argument lists.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ArgsMatch = {
  [K in RequestName]: Same<z.input<(typeof REQUESTS)[K]['args']>, Parameters<HetmemApi[K]>>;
};
const argsMatch: ArgsMatch = {
  getInfo: true,
  listRuns: true,
  getRun: true,
  getTimeline: true,
  compareRuns: true,
  listPresets: true,
  validateExperiment: true,
  startRun: true,
  cancelRun: true,
  dequeueRun: true,
  activeRuns: true,
  tagRun: true,
  deleteRuns: true,
  exportRuns: true,
  importDatabase: true,
  listSweeps: true,
  getSweep: true,
  startSweep: true,
};
const namesMatch: Same<keyof HetmemApi, RequestName> = true;
void argsMatch;
void namesMatch;

export type RequestArgs<K extends RequestName> = Parameters<HetmemApi[K]>;
export type ResponseOf<K extends RequestName> = Awaited<ReturnType<HetmemApi[K]>>;

// ---------------------------------------------------------------------------------------
// The envelope every transport carries

export const API_ERROR_CODES = ['forbidden', 'invalid-request', 'internal'] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: { code: ApiErrorCode; message: string } };

/**
 * Answers one request: validates the arguments with the request's schema, calls the
 * service, and wraps the outcome in the envelope. Both transports' main sides use it, so
 * they validate and word failures the same way.
 */
export async function dispatchRequest(
  api: HetmemApi,
  name: RequestName,
  args: unknown[],
  onError?: (error: unknown) => void,
): Promise<ApiResult<unknown>> {
  const parsed = REQUESTS[name].args.safeParse(args);
  if (!parsed.success) {
    return { ok: false, error: { code: 'invalid-request', message: `${name}: ${z.prettifyError(parsed.error)}` } };
  }
  try {
    const call = api[name] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, value: await call.apply(api, parsed.data as unknown[]) };
  } catch (error) {
    onError?.(error);
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: 'internal', message: `${name} failed: ${message}` } };
  }
}

export function isRequestName(name: string): name is RequestName {
  return Object.hasOwn(CHANNELS, name);
}
