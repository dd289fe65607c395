/**
 * ping-pong: a buffer handed back and forth between a CPU producer/consumer and the
 * device, round after round. It is where strategies differ most: migration moves the
 * pages every round, mirroring reads them over the link, coherent memory moves lines.
 */
import { z } from 'zod';
import { bool, num, obj, size } from '../schema/fields.js';
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
    overlap: bool(
      "Double-buffer the rounds (true): the buffer is two halves, and in each round the CPU consumes and refills one half while the device works on the other, in the same phase. Both halves are one mapping, so the CPU's writes invalidate it while device faults are in flight (notifier retries). False: CPU and device take turns over the whole buffer.",
    ).default(false),
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
  if (config.overlap) {
    const half = Math.floor(end / 2 / 4096) * 4096 || end;
    const cpuHalf = (h: number) =>
      sweepSpec({
        agent: 'cpu',
        contexts: config.cpuThreads,
        steps: [
          { region: BUF, write: false },
          { region: BUF, write: true },
        ],
        start: h * half,
        end: h === 0 ? half : end,
        cyclesPerLine: 0,
      });
    const deviceHalf = (h: number) =>
      sweepSpec({
        agent: 'device',
        contexts: 0,
        steps: [
          { region: BUF, write: false },
          { region: BUF, write: true },
        ],
        start: h * half,
        end: h === 0 ? half : end,
        cyclesPerLine: config.computeCyclesPerLine,
      });
    for (let r = 1; r <= config.rounds; r++) {
      const h = r % 2;
      phases.push({
        kind: 'streams',
        label: `round ${r}: cpu refills half ${h} while the device works on half ${1 - h}`,
        streams: [cpuHalf(h), deviceHalf(1 - h)],
      });
    }
  } else {
    for (let r = 1; r <= config.rounds; r++) {
      phases.push({ kind: 'streams', label: `round ${r}: cpu writes`, streams: [cpuWrite] });
      phases.push({ kind: 'streams', label: `round ${r}: device reads, writes`, streams: [device] });
      phases.push({ kind: 'streams', label: `round ${r}: cpu reads`, streams: [cpuRead] });
    }
  }
  return {
    regions: [{ name: 'buffer', sizeBytes: config.bufferBytes, prot: 'read-write', shared: false }],
    premapped: [BUF],
    phases,
    opNames: [],
  };
}
