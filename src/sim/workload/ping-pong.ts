/**
 * ping-pong: a buffer handed back and forth between a CPU producer/consumer and the
 * device, round after round. It is where strategies differ most: migration moves the
 * pages every round, mirroring reads them over the link, coherent memory moves lines.
 */
import { z } from 'zod';
import { num, obj, size } from '../config/fields.js';
import { computeCyclesPerLineField, cpuThreadsField, MiB, sweepSpec } from './common.js';
import type { WorkloadEnv } from './env.js';
import type { Phase, WorkloadPlan } from './types.js';

export const pingPongSchema = obj(
  {
    impl: z.literal('ping-pong').describe('The workload generator.'),
    bufferBytes: size('Size of the shared buffer, in bytes (or "16MiB").', { min: 64 }).default(16 * MiB),
    rounds: num(
      'Rounds; each is three phases: the CPU writes the buffer, the device reads and writes it, the CPU reads it.',
      { int: true, min: 1, max: 100_000 },
    ).default(8),
    cpuThreads: cpuThreadsField(),
    computeCyclesPerLine: computeCyclesPerLineField(
      1,
      "The device's work per line of the buffer between its read and its write.",
    ),
  },
  'Producer/consumer between CPU and device over one buffer: per round, a CPU phase writes it, a device phase reads then writes each 4 KiB chunk (grid-stride), a CPU phase reads it.',
);

export type PingPongConfig = z.output<typeof pingPongSchema>;

export function buildPingPong(config: PingPongConfig, _env: WorkloadEnv): WorkloadPlan {
  const BUF = 0;
  const end = config.bufferBytes;
  const cpuWrite = sweepSpec({
    agent: 'cpu',
    contexts: config.cpuThreads,
    steps: [{ region: BUF, write: true }],
    start: 0,
    end,
    cyclesPerLine: 0,
  });
  const device = sweepSpec({
    agent: 'device',
    contexts: 0,
    steps: [
      { region: BUF, write: false },
      { region: BUF, write: true },
    ],
    start: 0,
    end,
    cyclesPerLine: config.computeCyclesPerLine,
  });
  const cpuRead = sweepSpec({
    agent: 'cpu',
    contexts: config.cpuThreads,
    steps: [{ region: BUF, write: false }],
    start: 0,
    end,
    cyclesPerLine: 0,
  });
  const phases: Phase[] = [];
  for (let r = 1; r <= config.rounds; r++) {
    phases.push({ kind: 'streams', label: `round ${r}: cpu writes`, streams: [cpuWrite] });
    phases.push({ kind: 'streams', label: `round ${r}: device reads, writes`, streams: [device] });
    phases.push({ kind: 'streams', label: `round ${r}: cpu reads`, streams: [cpuRead] });
  }
  return {
    regions: [{ name: 'buffer', sizeBytes: config.bufferBytes, prot: 'read-write', shared: false }],
    premapped: [BUF],
    phases,
    opNames: [],
  };
}
