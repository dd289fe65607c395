/**
 * The one registry pattern of the model: strategies, workloads and links are each a typed
 * table of `{impl, schema, create}` rows. The schemas form the `impl`-discriminated union
 * of the experiment document; `create` builds the thing from its parsed config.
 */
import type { z } from 'zod';

export interface Registration<T, Args extends unknown[] = []> {
  /** The value of `impl` that selects this row. */
  readonly impl: string;
  readonly schema: z.ZodType;
  // The parsed config of this row's schema, plus whatever the table's users pass.
  readonly create: (config: never, ...args: Args) => T;
}

/** The row of `table` whose impl is `impl`; a programming error when none is. */
export function lookup<R extends { impl: string }>(table: readonly R[], impl: string, what: string): R {
  const row = table.find((r) => r.impl === impl);
  if (row === undefined) throw new Error(`no ${what} "${impl}" in the registry`);
  return row;
}
