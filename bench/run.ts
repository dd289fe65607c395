/**
 * npm run bench [-- --only NAME[,NAME]] [-- --quick]: throughput and memory figures of the
 * simulator on one core, one line per case. Each case's simulation and its bare loop (which
 * only generates the same access stream) run in fresh processes (bench/child.ts). It prints
 * figures and never fails on a timing; a case that fails prints why and the rest go on.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchCases, type BenchCase, type SimCase } from './cases.js';
import type { ChildReport } from './child.js';
import { sweepCase, sweepLine } from './sweep.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

/** The child's report, or why it has none (its stderr, or how it died). */
function runChild(name: string, part: 'sim' | 'bare', quick: boolean): ChildReport | string {
  const args = [CHILD, name, part, ...(quick ? ['--quick'] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stderr = r.stderr?.trim() ?? '';
  if (r.error) return `could not start ${part} child: ${r.error.message}`;
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    if (/heap out of memory/i.test(stderr)) return `JavaScript heap out of memory (${how})`;
    if (r.signal === 'SIGKILL') return `${how} (out of memory?)${stderr ? `: ${stderr}` : ''}`;
    return stderr ? `${stderr.split('\n').slice(0, 5).join(' | ')} (${how})` : how;
  }
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as ChildReport;
  } catch {
    return `unreadable ${part} child output: ${JSON.stringify(last.slice(0, 200))}`;
  }
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(n === Math.round(n) ? 0 : 2);
}

function rss(kib: number): string {
  return `peak RSS ${(kib / 1024).toFixed(0)} MiB`;
}

function simLine(c: SimCase, sim: ChildReport, bare: ChildReport | string, quick: boolean): string {
  const k = sim.counts;
  const s = sim.seconds;
  const accesses = (k['device.accesses'] ?? 0) + (k['cpu.accesses'] ?? 0);
  const rate = accesses / s;
  const missing = ['device.translations', 'cpu.translations'].filter((n) => !(n in k));
  const translations = missing.length
    ? `translations/s unknown (the simulator reports no ${missing.join(' or ')})`
    : `${fmt((k['device.translations'] + k['cpu.translations']) / s)} translations/s`;
  const parts = [
    `${fmt(rate)} accesses/s`,
    translations,
    `${fmt((k['sim.events'] ?? 0) / s)} events/s`,
    `${s.toFixed(2)} s wall, ${sim.cpuSeconds.toFixed(2)} s CPU (${fmt(accesses)} accesses, ${fmt(k['sim.events'] ?? 0)} events, ${fmt(k['device.page_faults'] ?? 0)} device faults)`,
    typeof bare === 'string'
      ? `bare loop failed: ${bare}`
      : `bare loop ${fmt(bare.counts.lines / bare.seconds)} accesses/s, efficiency ${((rate / (bare.counts.lines / bare.seconds)) * 100).toFixed(1)} %`,
    rss(sim.maxRssKiB),
  ];
  const t = c.target;
  if (t && !quick) {
    if (t.figure === 'wall') {
      // On a shared machine the CPU time is what one core of it spent; the wall adds the waits for a core.
      parts.push(
        `${s.toFixed(1)} s wall and ${sim.cpuSeconds.toFixed(1)} s CPU against the issue's ${t.label} target: ${(s / t.value).toFixed(2)}x and ${(sim.cpuSeconds / t.value).toFixed(2)}x`,
      );
    } else {
      const figure = sim.maxRssKiB * 1024;
      parts.push(
        `${(figure / 1e6).toFixed(0)} MB peak RSS against the issue's ${t.label} target: ${(figure / t.value).toFixed(2)}x`,
      );
    }
  }
  return parts.join('; ');
}

function caseLine(c: BenchCase, quick: boolean): string {
  const sim = runChild(c.name, 'sim', quick);
  if (typeof sim === 'string') return `${c.name}: failed: ${sim}`;
  if (c.kind === 'engine') {
    const events = sim.counts['sim.events'];
    return `${c.name} — ${c.title}: ${fmt(events / sim.seconds)} events/s; ${sim.seconds.toFixed(2)} s wall, ${sim.cpuSeconds.toFixed(2)} s CPU (${fmt(events)} events); ${rss(sim.maxRssKiB)}`;
  }
  return `${c.name} — ${c.title}: ${simLine(c, sim, runChild(c.name, 'bare', quick), quick)}`;
}

function parseArgs(argv: string[]): { only: string[]; quick: boolean } {
  let only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  let quick = process.env.BENCH_QUICK === '1';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only') {
      if (i + 1 >= argv.length) throw new Error('--only needs a case name (or several, comma-separated)');
      only = argv[++i].split(',').filter(Boolean);
    } else if (a.startsWith('--only=')) only = a.slice('--only='.length).split(',').filter(Boolean);
    else throw new Error(`unknown argument ${JSON.stringify(a)}: valid are --quick and --only NAME[,NAME]`);
  }
  return { only, quick };
}

async function main(): Promise<void> {
  let args: { only: string[]; quick: boolean };
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const all = [...benchCases(args.quick), sweepCase];
  const names = all.map((c) => c.name);
  const unknown = args.only.filter((n) => !names.includes(n));
  if (unknown.length) {
    console.error(`--only: no case named ${unknown.join(', ')}; the cases are ${names.join(', ')}`);
    process.exit(2);
  }
  const chosen = args.only.length ? all.filter((c) => args.only.includes(c.name)) : all;
  console.log(
    `Hetmem Workbench benchmark (node ${process.version}, one core per case, each case in fresh processes` +
      `${args.quick ? ', --quick: every case about 10x smaller' : ''}); an access is one 64-byte line`,
  );
  for (const c of chosen) console.log(c.kind === 'sweep' ? await sweepLine(c, args.quick) : caseLine(c, args.quick));
}

await main();
