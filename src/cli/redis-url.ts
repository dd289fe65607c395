/**
 * --redis URL, checked before anything runs. Apart from args.ts, which loads the store and
 * the schema: `hetmem worker` needs neither.
 */
import { checkRedisUrl } from '../main/services/sweeps/queue.js';
import { invalid } from './errors.js';

/** --redis URL: a redis:// or rediss:// URL with a host. */
export function parseRedisUrl(text: string): string {
  try {
    return checkRedisUrl(text.trim());
  } catch (e) {
    throw invalid(`--redis: ${(e as Error).message}`);
  }
}
