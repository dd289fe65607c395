/**
 * One benchmark measurement in a fresh process, so no case's JIT or heap colours another:
 * `node child.js CASE sim|bare [--quick]`. Prints one JSON line (a ChildReport) on
 * success; on failure prints the reason on stderr and exits 1.
 */
import { EventQueue } from '../src/sim/engine/event-queue.js';
import { Rng } from '../src/sim/engine/rng.js';
import { parseExperiment, simulate, type Experiment } from '../src/sim/index.js';
import { buildWorkload } from '../src/sim/workload/index.js';
import { drainPlan } from '../src/sim/workload/drain.js';
import { loadPresetMap } from '../src/main/services/presets.js';
import { benchCases, type EngineCase, type SimCase } from './cases.js';

/** Metrics the parent reports; a name the simulator does not report is left out. */
const REPORTED_METRICS = [
  'device.accesses',
  'cpu.accesses',
  'device.translations',
  'cpu.translations',
  'sim.events',
  'device.page_faults',
] as const;

export interface ChildReport {
  seconds: number;
  /**
   * CPU seconds (user and system) of this process over the same span: on a shared
   * machine the wall time includes the waits for a core, this does not.
   */
  cpuSeconds: number;
  /** Peak resident set of this process, KiB. */
  maxRssKiB: number;
  /** Events for the engine case, lines for a bare loop, the metrics for a simulation. */
  counts: Record<string, number>;
}

type Measured = Omit<ChildReport, 'maxRssKiB'>;

function time(fn: () => void): { seconds: number; cpuSeconds: number } {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  fn();
  const used = process.cpuUsage(cpu);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
}

function runEngine(c: EngineCase): Measured {
  const q = new EventQueue(1024);
  const rng = new Rng(1, 'bench');
  const spent = time(() => {
    for (let i = 0; i < 1024; i++) q.push(rng.nextInt(1_000_000), 0, i);
    for (let i = 0; i < c.events; i++) {
      q.pop();
      q.push(q.lastTime + 1 + (q.lastTarget % 997), 0, q.lastTarget);
    }
  });
  return { ...spent, counts: { 'sim.events': c.events } };
}

function experiment(c: SimCase): Experiment {
  return parseExperiment({ name: `bench ${c.name}`, seed: 1, ...c.doc }, loadPresetMap());
}

/** The bare loop: only generates the case's access stream. */
function runBare(c: SimCase): Measured {
  const exp = experiment(c);
  const hw = exp.hardware;
  const env = {
    seed: exp.seed,
    cpuContexts: hw.cpu.cores,
    deviceContexts: hw.devices.reduce((sum, d) => sum + d.computeUnits * d.contextsPerUnit, 0),
    traceSource: c.trace?.(),
  };
  let lines = 0;
  const spent = time(() => {
    lines = drainPlan(buildWorkload(exp.workload, env)).lines;
  });
  return { ...spent, counts: { lines } };
}

function runSim(c: SimCase): Measured {
  const exp = experiment(c);
  const traceSource = c.trace?.();
  let metrics: Record<string, { value: number }> = {};
  const spent = time(() => {
    metrics = simulate(exp, { traceSource }).metrics;
  });
  const counts: Record<string, number> = {};
  for (const name of REPORTED_METRICS) if (name in metrics) counts[name] = metrics[name].value;
  return { ...spent, counts };
}

function main(argv: string[]): ChildReport {
  const [name, part] = argv;
  const c = benchCases(argv.includes('--quick')).find((x) => x.name === name);
  if (!c) throw new Error(`no bench case named ${JSON.stringify(name)}`);
  let measured: Measured;
  if (c.kind === 'engine') measured = runEngine(c);
  else if (part === 'bare') measured = runBare(c);
  else if (part === 'sim') measured = runSim(c);
  else throw new Error(`part must be "sim" or "bare", got ${JSON.stringify(part)}`);
  return { ...measured, maxRssKiB: process.resourceUsage().maxRSS };
}

try {
  console.log(JSON.stringify(main(process.argv.slice(2))));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
