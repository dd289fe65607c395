/**
 * The workloads, one line each in the schema list and in the builder table: adding a
 * workload is adding its file and these two lines.
 */
import { z } from 'zod';
import type { WorkloadEnv } from './env.js';
import { buildGather, gatherSchema } from './gather.js';
import { buildGemm, gemmSchema } from './gemm.js';
import { buildPingPong, pingPongSchema } from './ping-pong.js';
import { buildPointerChase, pointerChaseSchema } from './pointer-chase.js';
import { buildScripted, scriptedSchema } from './scripted.js';
import { buildStream, streamSchema } from './stream.js';
import { buildTrace, traceSchema } from './trace.js';
import type { WorkloadPlan } from './types.js';

export const workloadSchema = z
  .discriminatedUnion('impl', [
    streamSchema,
    gemmSchema,
    gatherSchema,
    pointerChaseSchema,
    pingPongSchema,
    traceSchema,
    scriptedSchema,
  ])
  .describe('What runs on the CPU and the device: a generator, a trace replay, or a script of operations.');

export type WorkloadConfig = z.output<typeof workloadSchema>;
export type WorkloadName = WorkloadConfig['impl'];

type Builder<K extends WorkloadName> = (config: Extract<WorkloadConfig, { impl: K }>, env: WorkloadEnv) => WorkloadPlan;

const BUILDERS: { [K in WorkloadName]: Builder<K> } = {
  stream: buildStream,
  gemm: buildGemm,
  gather: buildGather,
  'pointer-chase': buildPointerChase,
  'ping-pong': buildPingPong,
  trace: buildTrace,
  scripted: buildScripted,
};

export const WORKLOAD_NAMES = Object.keys(BUILDERS) as WorkloadName[];

export function buildWorkload(config: WorkloadConfig, env: WorkloadEnv): WorkloadPlan {
  return (BUILDERS[config.impl] as Builder<WorkloadName>)(config as never, env);
}

export type { WorkloadEnv } from './env.js';
