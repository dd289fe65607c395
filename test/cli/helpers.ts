/** Spawning the real `hetmem` binary (bin/hetmem.js over the compiled dist/) in temporary folders. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin', 'hetmem.js');
const BUILT = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/**
 * `npm test` builds dist/ first (build:node); when vitest is run on its own and dist/ is
 * missing, build it once. Test files run in parallel, so one builds under a lock folder
 * and the others wait for it.
 */
export function ensureBuilt(): void {
  if (existsSync(BUILT)) return;
  const lock = join(ROOT, 'dist', '.cli-test-build');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  let mine = false;
  try {
    mkdirSync(lock);
    mine = true;
  } catch {
    // another test file is building
  }
  if (mine) {
    try {
      const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.node.json'], { cwd: ROOT, encoding: 'utf8', shell: false });
      if (!existsSync(BUILT)) throw new Error(`building dist/ failed:\n${r.stdout}\n${r.stderr}`);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    return;
  }
  const deadline = Date.now() + 120_000;
  while (!existsSync(BUILT) || existsSync(lock)) {
    if (Date.now() > deadline) throw new Error('timed out waiting for another test file to build dist/');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hetmem ...args` in `cwd`; stdin is not a terminal, so no progress bar is drawn. */
export function hetmem(cwd: string, ...args: string[]): Outcome {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `hetmem ...args` as an unprivileged user when the tests run as root: root ignores
 * file modes, so only then does a chmod'ed read-only file or folder refuse a write.
 */
export function hetmemUnprivileged(cwd: string, ...args: string[]): Outcome {
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  // The checkout may sit in a folder only its owner may enter (mktemp -d): let nobody in.
  if (process.getuid?.() === 0) {
    for (let dir = dirname(BIN); dir !== dirname(dir); dir = dirname(dir)) {
      const mode = statSync(dir).mode;
      if ((mode & 0o005) !== 0o005) chmodSync(dir, mode | 0o005);
    }
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000, ...asNobody });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `hetmem ...args` without waiting; for the Ctrl-C test. */
export function startHetmem(cwd: string, ...args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Outcome>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, done };
}

export function tempFolder(): { dir: string; write: (name: string, content: unknown) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hetmem-cli-'));
  return {
    dir,
    write: (name, content) => {
      const path = join(dir, name);
      mkdirSync(resolve(path, '..'), { recursive: true });
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Database files (and their WAL/SHM sidecars) in `dir`. */
export function dbFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.(sqlite|db)(-wal|-shm|-journal)?$/.test(f));
}

/** A tiny experiment: STREAM triad over 1 MiB arrays, once, on the A100-class preset, HMM mirroring. */
export function tinyExperiment(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny stream',
    hardware: { preset: 'gpu-pcie4-hbm2' },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'stream', arrayBytes: '1MiB', iterations: 1 },
    ...extra,
  };
}
