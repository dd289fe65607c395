/**
 * The Api contract between the UI and the services: one request per channel, each with a
 * zod schema for its arguments (validated in main before any service sees them) and a
 * schema for its response (the web transport validates what it receives with it).
 *
 * Two transports implement `HetmemApi` for the renderer: the Electron preload
 * (`window.hetmem`, over ipcRenderer.invoke) and, later, the web client of `npm run serve`.
 * Both carry every response in an `ApiResult` envelope, so a failure arrives as a code and
 * a plain sentence rather than as a transport's wrapped exception text.
 *
 * Imports: zod and src/sim (types) only.
 */
import { z } from 'zod';
import type { Attribution, Histogram, Metrics, Series } from '../sim/result/types.js';
import { CHANNELS, type RequestName } from './channels.js';

export { CHANNELS, type RequestName } from './channels.js';

// ---------------------------------------------------------------------------------------
// Data

/** A run is `running` until it ends in one of the other three states; it never goes back. */
export const RUN_STATUSES = ['running', 'done', 'failed', 'cancelled'] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** An instant as an ISO 8601 UTC string, e.g. "2026-11-24T07:28:00.000Z". */
const isoInstant = z.iso.datetime({ offset: true });

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
});
export type RunSummary = z.infer<typeof runSummarySchema>;

/**
 * Any JS number, NaN and the infinities included: results hold them (a histogram's last
 * bound is Infinity; a metric may be NaN), and z.number() refuses them.
 */
const anyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number');

const metricSchema = z.object({ value: anyNumber, unit: z.string() });
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
});
// The result parts are typed by src/sim so that both sides agree with the model's own types.
export type RunDetail = Omit<z.infer<typeof runDetailSchema>, 'metrics' | 'series' | 'histograms' | 'attribution'> & {
  metrics: Metrics;
  series: Series[];
  histograms: Histogram[];
  attribution: Attribution[];
};

/** What the UI needs to know about the services it talks to. */
export const infoSchema = z.object({
  /** The SQLite file the services read and write; the CLI's `--db` takes the same path. */
  databasePath: z.string(),
  modelVersion: z.string(),
});
export type Info = z.infer<typeof infoSchema>;

// ---------------------------------------------------------------------------------------
// Requests

export const listRunsFilterSchema = z.strictObject({ status: runStatusSchema.optional() });
export type ListRunsFilter = z.infer<typeof listRunsFilterSchema>;

/**
 * Each request: its channel, a schema for its argument list (a tuple, so extra arguments
 * are rejected too) and a schema for its response.
 */
export const REQUESTS = {
  getInfo: {
    channel: CHANNELS.getInfo,
    args: z.tuple([]),
    response: infoSchema,
  },
  listRuns: {
    channel: CHANNELS.listRuns,
    args: z.tuple([listRunsFilterSchema.optional()]),
    response: z.array(runSummarySchema),
  },
  getRun: {
    channel: CHANNELS.getRun,
    args: z.tuple([z.number().int().positive()]),
    response: runDetailSchema.nullable(),
  },
} as const satisfies Record<RequestName, { channel: string; args: z.ZodTuple; response: z.ZodType }>;

/** The interface both transports implement and the services answer. */
export interface HetmemApi {
  getInfo(): Promise<Info>;
  listRuns(filter?: ListRunsFilter): Promise<RunSummary[]>;
  /** The run, or null when there is no run with that id. */
  getRun(id: number): Promise<RunDetail | null>;
}

// Compile-time checks that REQUESTS, CHANNELS and HetmemApi name the same requests with
// the same argument lists.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ArgsMatch = {
  [K in RequestName]: Same<z.input<(typeof REQUESTS)[K]['args']>, Parameters<HetmemApi[K]>>;
};
const argsMatch: ArgsMatch = { getInfo: true, listRuns: true, getRun: true };
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
