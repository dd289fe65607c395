/**
 * The workloads, one row each ({impl, schema, create}): adding a workload is adding its
 * file and one row.
 */
import { z } from 'zod';
import type { WorkloadEnv } from './env.js';
import { buildGather, gatherSchema } from './gather.js';
import { buildGemm, gemmSchema } from './gemm.js';
import { buildPingPong, pingPongSchema } from './ping-pong.js';
import { buildPointerChase, pointerChaseSchema } from './pointer-chase.js';
import { buildScripted, scriptedSchema } from './scripted.js';
import { buildSparseResidency, sparseResidencySchema } from './sparse-residency.js';
import { buildStream, streamSchema } from './stream.js';
import { buildTrace, traceSchema } from './trace.js';
import type { WorkloadPlan } from './types.js';
import { lookup, type Registration } from '../schema/registry.js';

export const WORKLOADS = [
  { impl: 'stream', schema: streamSchema, create: buildStream },
  { impl: 'gemm', schema: gemmSchema, create: buildGemm },
  { impl: 'gather', schema: gatherSchema, create: buildGather },
  { impl: 'pointer-chase', schema: pointerChaseSchema, create: buildPointerChase },
  { impl: 'ping-pong', schema: pingPongSchema, create: buildPingPong },
  { impl: 'trace', schema: traceSchema, create: buildTrace },
  { impl: 'sparse-residency', schema: sparseResidencySchema, create: buildSparseResidency },
  { impl: 'scripted', schema: scriptedSchema, create: buildScripted },
] as const satisfies readonly Registration<WorkloadPlan, [WorkloadEnv]>[];

type WorkloadSchema = (typeof WORKLOADS)[number]['schema'];

export const workloadSchema = z
  .discriminatedUnion('impl', WORKLOADS.map((w) => w.schema) as unknown as [WorkloadSchema, ...WorkloadSchema[]])
  .describe('What runs on the CPU and the device: a generator, a trace replay, or a script of operations.');

export type WorkloadConfig = z.output<typeof workloadSchema>;
export type WorkloadName = WorkloadConfig['impl'];

export const WORKLOAD_NAMES = WORKLOADS.map((w) => w.impl) as WorkloadName[];

export function buildWorkload(config: WorkloadConfig, env: WorkloadEnv): WorkloadPlan {
  const row = lookup(WORKLOADS, config.impl, 'workload');
  return (row.create as (c: WorkloadConfig, e: WorkloadEnv) => WorkloadPlan)(config, env);
}

export type { WorkloadEnv } from './env.js';
