#!/usr/bin/env node
/**
 * node bench/dram-reference/collect-results.mjs --dramsim3 DIR --commit SHA [--traces DIR] [--runs DIR]
 *
 * Runs DRAMSim3's trace front end (DIR/build/dramsim3main, run from DIR) on each trace of
 * generate-traces.mjs with each config below, and writes results.json beside this script.
 * Each run's cycle count (-c) is the smallest that drains the trace: found by bisection, as a
 * shorter run is exactly a prefix of a longer one (DRAMSim3 is deterministic), so the figures,
 * above all average_bandwidth (bytes / (num_cycles x tCK)), do not depend on idle padding.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CONFIGS = ['configs/HBM2_8Gb_x128.ini', 'configs/DDR4_8Gb_x8_3200.ini'];
const TRACES = ['sequential.trace', 'sparse-random.trace', 'saturated-random.trace'];

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    dramsim3: { type: 'string' },
    commit: { type: 'string' },
    traces: { type: 'string', default: here },
    runs: { type: 'string', default: join(tmpdir(), 'dram-reference-runs') },
  },
});
if (!opts.dramsim3 || !opts.commit) {
  console.error('usage: collect-results.mjs --dramsim3 DIR --commit SHA [--traces DIR] [--runs DIR]');
  console.error('  --dramsim3: DRAMSim3 source folder with build/dramsim3main built in it');
  console.error('  --commit: the DRAMSim3 commit that folder was built from (recorded in results.json)');
  process.exit(2);
}
const dramsim3Dir = resolve(opts.dramsim3);
const tracesDir = resolve(opts.traces);

/** Requests in a trace file, and the cycle of its last line. */
function traceFacts(path) {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const writes = lines.filter((l) => / WRITE /.test(l)).length;
  return { reads: lines.length - writes, writes, lastCycle: Number(lines.at(-1).split(' ')[2]) };
}

/** `key = value` pairs of the config's sections that matter here, as written in the file. */
function readIni(path) {
  const ini = {};
  let section = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const l = raw.trim();
    if (l.startsWith('[')) section = l.slice(1, -1);
    else if (l.includes('=')) {
      const [k, v] = l.split('=').map((s) => s.trim());
      ini[`${section}.${k}`] = v;
    }
  }
  return ini;
}

/** Runs dramsim3main for `cycles` and returns its per-channel final stats. */
function runDramsim3(config, trace, cycles, outDir) {
  mkdirSync(outDir, { recursive: true });
  const args = [config, '-t', trace, '-c', String(cycles), '-o', outDir];
  execFileSync('build/dramsim3main', args, { cwd: dramsim3Dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return { args, channels: Object.values(JSON.parse(readFileSync(join(outDir, 'dramsim3.json'), 'utf8'))) };
}

const sum = (channels, key) => channels.reduce((s, c) => s + c[key], 0);
const COUNTS = ['num_reads_done', 'num_writes_done', 'num_read_cmds', 'num_write_cmds'];
const fingerprint = (channels) => COUNTS.map((k) => sum(channels, k)).join(',');

/** Smallest cycle count whose request and command counts equal those of a much longer run. */
function drainCycles(config, trace, lastCycle, outDir) {
  const countsAt = (c) => fingerprint(runDramsim3(config, trace, c, outDir).channels);
  let hi = lastCycle + 4096;
  let settled = countsAt(hi * 2);
  while (countsAt(hi) !== settled) {
    hi *= 2;
    settled = countsAt(hi * 2);
  }
  let lo = lastCycle; // the last line cannot be served by the cycle it is due
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (countsAt(mid) === settled) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Mean and percentiles from DRAMSim3's exact read_latency histogram ({cycles: count}) of all channels. */
function latencyFigures(channels) {
  const counts = new Map();
  for (const c of channels) {
    for (const [v, n] of Object.entries(c.read_latency)) counts.set(Number(v), (counts.get(Number(v)) ?? 0) + n);
  }
  const values = [...counts.keys()].sort((a, b) => a - b);
  const total = values.reduce((s, v) => s + counts.get(v), 0);
  const percentile = (p) => {
    let seen = 0;
    for (const v of values) if ((seen += counts.get(v)) >= p * total) return v;
    return Number.NaN;
  };
  const mean = values.reduce((s, v) => s + v * counts.get(v), 0) / total;
  return { mean, p50: percentile(0.5), p99: percentile(0.99), max: values.at(-1) };
}

const round = (x, digits) => Number(x.toFixed(digits));

function figures(configPath, traceName) {
  const ini = readIni(join(dramsim3Dir, configPath));
  const tCK = Number(ini['timing.tCK']);
  const trace = traceFacts(join(tracesDir, traceName));
  const tracePath = join(tracesDir, traceName);
  const outDir = join(
    resolve(opts.runs),
    `${configPath.replace(/^configs\/|\.ini$/g, '')}-${traceName.replace('.trace', '')}`,
  );
  const cycles = drainCycles(configPath, tracePath, trace.lastCycle, outDir);
  const { channels } = runDramsim3(configPath, tracePath, cycles, outDir);
  const latency = latencyFigures(channels);
  const cmds = sum(channels, 'num_read_cmds') + sum(channels, 'num_write_cmds');
  const rowHits = sum(channels, 'num_read_row_hits') + sum(channels, 'num_write_row_hits');
  const readsDone = sum(channels, 'num_reads_done');
  const writesDone = sum(channels, 'num_writes_done');
  // The reader re-offers the last line once as a READ after the end of the file (README.md).
  if (writesDone !== trace.writes || (readsDone !== trace.reads && readsDone !== trace.reads + 1)) {
    throw new Error(
      `${configPath} ${traceName}: DRAMSim3 did ${readsDone} reads and ${writesDone} writes, the trace has ${trace.reads} and ${trace.writes}`,
    );
  }
  const requestBytes = (Number(ini['system.bus_width']) / 8) * Number(ini['dram_structure.BL']);
  return {
    config: configPath,
    trace: traceName,
    command: `build/dramsim3main ${configPath} -t TRACES/${traceName} -c ${cycles} -o OUT`,
    tCKNs: tCK,
    cycles,
    timeNs: round(cycles * tCK, 2),
    traceRequests: { reads: trace.reads, writes: trace.writes, lastCycle: trace.lastCycle },
    dramsim3Requests: { readsDone, writesDone, extraReadFromTraceEnd: readsDone - trace.reads },
    commands: {
      read: sum(channels, 'num_read_cmds'),
      write: sum(channels, 'num_write_cmds'),
      activate: sum(channels, 'num_act_cmds'),
      precharge: sum(channels, 'num_pre_cmds'),
      refresh: sum(channels, 'num_ref_cmds'),
      readRowHits: sum(channels, 'num_read_row_hits'),
      writeRowHits: sum(channels, 'num_write_row_hits'),
    },
    averageReadLatencyCycles: round(latency.mean, 3),
    averageReadLatencyNs: round(latency.mean * tCK, 3),
    readLatencyP50Cycles: latency.p50,
    readLatencyP99Cycles: latency.p99,
    readLatencyMaxCycles: latency.max,
    rowBufferHitRate: round(rowHits / cmds, 5),
    bandwidthGBps: round(sum(channels, 'average_bandwidth'), 4),
    bandwidthCheckGBps: round(((readsDone + writesDone) * requestBytes) / (cycles * tCK), 4),
  };
}

const runs = [];
for (const config of CONFIGS) {
  for (const trace of TRACES) {
    const r = figures(config, trace);
    console.log(
      `${config} ${trace}: ${r.cycles} cycles, ${r.averageReadLatencyNs} ns, hit ${r.rowBufferHitRate}, ${r.bandwidthGBps} GB/s`,
    );
    runs.push(r);
  }
}
const results = {
  source: 'DRAMSim3 (Li et al., IEEE CAL 2020), https://github.com/umd-memsys/DRAMsim3',
  dramsim3Commit: opts.commit,
  build: 'cmake .. -DCMAKE_BUILD_TYPE=Release && make -j2 dramsim3main (in DRAMSim3/build)',
  tracesFrom: 'node bench/dram-reference/generate-traces.mjs',
  runs,
};
writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${join(here, 'results.json')}`);
