/** The strategies, one line each: a name, its schema, its factory. */
import { z } from 'zod';
import { createExplicitCopy } from './explicit-copy.js';
import { createHmmMirror } from './hmm-mirror.js';
import { explicitCopySchema, hmmMirrorSchema } from './schema.js';
import type { Strategy } from './types.js';

export const strategySchema = z
  .discriminatedUnion('impl', [explicitCopySchema, hmmMirrorSchema])
  .describe('How CPU and device share memory.');

export type StrategyConfig = z.output<typeof strategySchema>;

export const STRATEGY_NAMES = ['explicit-copy', 'hmm-mirror'] as const;

export function createStrategy(config: StrategyConfig): Strategy {
  switch (config.impl) {
    case 'explicit-copy':
      return createExplicitCopy(config);
    case 'hmm-mirror':
      return createHmmMirror(config);
  }
}
