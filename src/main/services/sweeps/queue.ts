/**
 * What the sweep coordinator and `hetmem worker` share over Redis: the queue's name, the
 * connection, a point's job (its id and data), and the refusal a worker of another model
 * version gives. Both sides check Redis with a short timeout first, so an unreachable
 * server is a clear error at once rather than ioredis retrying for ever.
 */
import type { RedisOptions } from 'bullmq';
import type { PlannedPoint } from './plan.js';
import type { PointTask } from './protocol.js';

/** The BullMQ queue every sweep uses unless told otherwise (`--queue`). */
export const DEFAULT_QUEUE = 'hetmem-points';

/** How long the first connection to Redis may take before the command gives up. */
export const CONNECT_TIMEOUT_MS = 3000;

export interface PointJobData {
  /** The coordinator's model version: a worker with another one refuses the job. */
  modelVersion: string;
  sweepId: string;
  /** The point's coordinates, for the worker's log. */
  label: string;
  task: PointTask;
}

/**
 * Model version + point hash: the same point of the same model is queued once, whichever
 * coordinator (or restart of one) adds it. BullMQ ids may not contain ':' nor be integers.
 */
export function jobIdOf(modelVersion: string, point: Pick<PlannedPoint, 'hash'>): string {
  return `${modelVersion.replace(/:/g, '_')}-${point.hash}`;
}

/** Starts every refusal message, so the coordinator tells a refusal from a failure. */
export const REFUSED = 'refused by worker';

/** `redis://host:port/db` (or rediss://); throws an Error saying what would be valid. */
export function checkRedisUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${JSON.stringify(text)} is not a URL; give one such as redis://127.0.0.1:6379`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(
      `${shownUrl(text)} is not a Redis URL (it starts with ${url.protocol}); give one such as redis://127.0.0.1:6379 or rediss://host:6380 for TLS`,
    );
  }
  if (!url.hostname) throw new Error(`${shownUrl(text)} names no host; give one such as redis://127.0.0.1:6379`);
  return text;
}

/** The URL with its password hidden, for messages. */
export function shownUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString().replace(/\/$/, '');
  } catch {
    return text;
  }
}

/** BullMQ's connection options: reconnect for ever once running (a Redis restart is survived). */
export function bullConnection(url: string): RedisOptions {
  return { url, connectTimeout: CONNECT_TIMEOUT_MS };
}

/**
 * Connects once, without retries, and pings. Throws an Error naming the URL and the cause
 * (refused, unknown host, timeout, not Redis, wrong password).
 */
export async function checkRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  // Loaded here, not at the top: the CLI's other commands (a local sweep) never pay for ioredis.
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  let cause: Error | undefined;
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const why = (cause ?? (e as Error)).message;
    throw new Error(
      `Redis at ${shownUrl(url)} is unreachable (${why}); start redis-server there, or give --redis the URL of a running one`,
    );
  } finally {
    client.disconnect();
  }
}
