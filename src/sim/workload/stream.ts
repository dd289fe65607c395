/**
 * stream: the STREAM triad a = b + s * c (McCalpin's STREAM benchmark) over three arrays,
 * the classic measure of sustainable memory bandwidth. On a device it shows what each
 * strategy costs for a purely streaming kernel whose inputs the host prepared.
 */
import { z } from 'zod';
import { num, obj, size } from '../schema/fields.js';
import {
  computeCyclesPerLineField,
  cpuThreadsField,
  initOnCpuField,
  MiB,
  readBackOnCpuField,
  sweepSpec,
} from './common.js';
import type { WorkloadEnv } from './env.js';
import type { Phase, WorkloadPlan } from './types.js';

export const streamSchema = obj(
  {
    impl: z.literal('stream').describe('The workload generator.'),
    arrayBytes: size('Size of each of the three arrays a, b and c, in bytes (or "64MiB").', { min: 64 }).default(
      64 * MiB,
    ),
    iterations: num('Triad kernels run one after another; each is a phase of its own (a kernel launch).', {
      int: true,
      min: 1,
      max: 100_000,
    }).default(3),
    initOnCpu: initOnCpuField('b and c'),
    readBackOnCpu: readBackOnCpuField('a'),
    cpuThreads: cpuThreadsField(),
    computeCyclesPerLine: computeCyclesPerLineField(
      2,
      'The triad does one multiply-add per element, so this is small: a few cycles per line.',
    ),
  },
  'STREAM triad a = b + s*c: device contexts sweep the arrays in 4 KiB chunks, grid-stride (context i takes chunks i, i+n, ...), each chunk read from b, read from c, written to a.',
);

export type StreamConfig = z.output<typeof streamSchema>;

const A = 0;
const B = 1;
const C = 2;

export function buildStream(config: StreamConfig, _env: WorkloadEnv): WorkloadPlan {
  const bytes = config.arrayBytes;
  const regions = ['a', 'b', 'c'].map((name) => ({
    name,
    sizeBytes: bytes,
    prot: 'read-write' as const,
    shared: false,
  }));
  const phases: Phase[] = [];
  if (config.initOnCpu) {
    phases.push({
      kind: 'streams',
      label: 'cpu writes b, c',
      streams: [
        sweepSpec({
          agent: 'cpu',
          contexts: config.cpuThreads,
          steps: [
            { region: B, write: true },
            { region: C, write: true },
          ],
          start: 0,
          end: bytes,
          cyclesPerLine: 0,
        }),
      ],
    });
  }
  const triad = sweepSpec({
    agent: 'device',
    contexts: 0,
    steps: [
      { region: B, write: false },
      { region: C, write: false },
      { region: A, write: true },
    ],
    start: 0,
    end: bytes,
    cyclesPerLine: config.computeCyclesPerLine,
  });
  for (let i = 0; i < config.iterations; i++) {
    phases.push({ kind: 'streams', label: `triad ${i + 1}/${config.iterations}`, streams: [triad] });
  }
  if (config.readBackOnCpu) {
    phases.push({
      kind: 'streams',
      label: 'cpu reads a',
      streams: [
        sweepSpec({
          agent: 'cpu',
          contexts: config.cpuThreads,
          steps: [{ region: A, write: false }],
          start: 0,
          end: bytes,
          cyclesPerLine: 0,
        }),
      ],
    });
  }
  return { regions, premapped: [A, B, C], phases, opNames: [] };
}
