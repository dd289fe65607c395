/**
 * The experiment document: hardware, strategy, workload, seed. This zod schema is the
 * single source of truth: types are inferred from it, defaults live in it, and the JSON
 * Schema for editors is generated from it (see json-schema.ts).
 */
import { z } from 'zod';
import { num, obj } from '../schema/fields.js';
import { hardwareSchema } from './hardware.js';
import { sweepSchema } from './sweep.js';
import { strategySchema } from '../mm/strategies/index.js';
import { workloadSchema } from '../workload/index.js';

export const samplingSchema = obj(
  {
    maxPoints: num(
      'Most points kept per time series. Series start at 1 us per point and coarsen by doubling to stay within this.',
      { int: true, min: 16, max: 100000 },
    ).default(512),
    timelineIntervals: num(
      "Most busy intervals the run's component timeline keeps, all its components together (each link direction, copy engine, fault handler and DRAM channel, the host memory; `hetmem trace` and the dashboard's Timeline show it). About 40 bytes each when stored. When they are spent, the busiest component closes its shorter idle gaps (keeping its busy time) and the result says how many and how long. 0 records no timeline: a sweep of many points may want that.",
      { int: true, min: 0, max: 1000000 },
    ).default(50000),
  },
  'How series and the component timeline are sampled over simulated time.',
).prefault({});

export const experimentSchema = obj(
  {
    name: z
      .string()
      .min(1, 'give the experiment a name')
      .describe('A short name for the experiment, shown in run lists.'),
    description: z.string().default('').describe('Free text: what the experiment asks.'),
    seed: num('Seed of every random stream in the run. Same experiment and seed give the same result, bit for bit.', {
      int: true,
      min: 0,
      max: 2 ** 32 - 1,
    }).default(1),
    hardware: hardwareSchema.prefault({}),
    strategy: strategySchema,
    workload: workloadSchema,
    sampling: samplingSchema,
    sweep: sweepSchema.optional(),
  },
  'A Hetmem Workbench experiment.',
);

export type Experiment = z.output<typeof experimentSchema>;
export type ExperimentInput = z.input<typeof experimentSchema>;
