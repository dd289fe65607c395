/**
 * The strategies: one line each in the registry table ({impl, schema, create}). Adding a
 * strategy is adding its file and one line here.
 */
import { z } from 'zod';
import { lookup, type Registration } from '../../schema/registry.js';
import { createAtsSva } from './ats-sva.js';
import { createCoherent } from './coherent.js';
import { createExplicitCopy } from './explicit-copy.js';
import { createGmem } from './gmem.js';
import { createHmmMigrate } from './hmm-migrate.js';
import { createHmmMirror } from './hmm-mirror.js';
import {
  atsSvaSchema,
  coherentSchema,
  explicitCopySchema,
  gmemSchema,
  hmmMigrateSchema,
  hmmMirrorSchema,
} from './schema.js';
import type { Strategy } from './types.js';

export const STRATEGIES = [
  { impl: 'explicit-copy', schema: explicitCopySchema, create: createExplicitCopy },
  { impl: 'hmm-mirror', schema: hmmMirrorSchema, create: createHmmMirror },
  { impl: 'hmm-migrate', schema: hmmMigrateSchema, create: createHmmMigrate },
  { impl: 'ats-sva', schema: atsSvaSchema, create: createAtsSva },
  { impl: 'gmem', schema: gmemSchema, create: createGmem },
  { impl: 'coherent', schema: coherentSchema, create: createCoherent },
] as const satisfies readonly Registration<Strategy>[];

type StrategySchema = (typeof STRATEGIES)[number]['schema'];

export const strategySchema = z
  .discriminatedUnion('impl', STRATEGIES.map((s) => s.schema) as unknown as [StrategySchema, ...StrategySchema[]])
  .describe('How CPU and device share memory.');

export type StrategyConfig = z.output<typeof strategySchema>;
export type StrategyName = StrategyConfig['impl'];

export const STRATEGY_NAMES = STRATEGIES.map((s) => s.impl) as StrategyName[];

export function createStrategy(config: StrategyConfig): Strategy {
  const row = lookup(STRATEGIES, config.impl, 'strategy');
  return (row.create as (c: StrategyConfig) => Strategy)(config);
}
