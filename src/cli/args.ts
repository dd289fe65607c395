/**
 * Checking arguments before anything is written: every error here exits 2 and names the
 * argument and what would be valid.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ConfigIssue } from '../sim/config/validate.js';
import { MAX_SEED } from '../main/services/runner/prepare.js';
import { Store } from '../main/services/store/store.js';
import { checkRedisUrl } from '../main/services/sweeps/queue.js';
import { type CliError, failure, invalid } from './errors.js';

export const DEFAULT_DB = 'hetmem.sqlite';

export interface ExperimentFile {
  /** As the user wrote it, for messages. */
  file: string;
  text: string;
  /** The file's folder: a relative trace path is resolved against it. */
  baseDir: string;
}

export function readExperimentFile(file: string): ExperimentFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a folder, not a file'
          : `cannot be read (${(e as Error).message})`;
    throw invalid(`${file}: ${why}; give the path of an experiment JSON file (\`hetmem presets\` lists the examples)`);
  }
  return { file, text, baseDir: dirname(resolve(file)) };
}

/** `FILE: path: message` (or `FILE: message` for an issue without a JSON path). */
export function issueLines(file: string, issues: readonly ConfigIssue[]): string[] {
  return issues.map((i) => (i.path ? `${file}: ${i.path}: ${i.message}` : `${file}: ${i.message}`));
}

export function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_SEED) {
    throw invalid(`--seed: ${JSON.stringify(text)} is not a seed; use a whole number from 0 to ${MAX_SEED}`);
  }
  return n;
}

/** "1,2,5-7" -> [1, 2, 5, 6, 7], in order, without repeats. */
export function parseRunIds(text: string): number[] {
  const bad = (why: string) =>
    invalid(
      `--runs: ${JSON.stringify(text)} ${why}; use run ids (whole numbers from 1) separated by commas, or ranges: --runs 1,2 or --runs 3-5`,
    );
  const ids: number[] = [];
  const parts = text.split(',').map((p) => p.trim());
  for (const part of parts) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw bad(part === '' ? 'has an empty entry' : `is not a list of run ids (${JSON.stringify(part)})`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1 || !Number.isSafeInteger(to)) throw bad(`holds ${JSON.stringify(part)}, which is not a run id`);
    if (to < from) throw bad(`holds the range ${part}, which runs backwards`);
    if (to - from > 100_000) throw bad(`holds the range ${part}, which is too long`);
    for (let id = from; id <= to; id++) if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** --redis URL: a redis:// or rediss:// URL with a host. */
export function parseRedisUrl(text: string): string {
  try {
    return checkRedisUrl(text.trim());
  } catch (e) {
    throw invalid(`--redis: ${(e as Error).message}`);
  }
}

/** '' and ':memory:' would give SQLite's temporary databases, which vanish at exit. */
function checkDbName(path: string): void {
  if (path === '' || path === ':memory:') {
    throw invalid(
      `--db: ${JSON.stringify(path)} is not a file name (SQLite would keep the runs in a temporary database that vanishes); give a path such as --db ${DEFAULT_DB}`,
    );
  }
}

/** The --db of a command that writes: its folder must exist; the file is created if absent. */
export function checkWritableDb(path: string): void {
  checkDbName(path);
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) {
      throw invalid(`--db: ${path} is a folder; give the path of a database file, e.g. --db ${DEFAULT_DB}`);
    }
    return;
  }
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw invalid(`--db: the folder ${dir} does not exist; create it or give another path`);
}

/** The --db of a command that reads: it must exist (the command never creates it). */
export function checkExistingDb(path: string): void {
  checkDbName(path);
  if (!existsSync(path)) {
    throw invalid(
      `--db: ${path} does not exist; give the path of a Hetmem Workbench database (\`hetmem run FILE --db ${path}\` creates one)`,
    );
  }
  if (statSync(path).isDirectory()) throw invalid(`--db: ${path} is a folder; give the path of a database file`);
}

/** Errors of Store.open that mean the file given is the wrong one, not that something broke. */
const WRONG_FILE =
  /is not an SQLite database|not a Hetmem Workbench one|newer Hetmem Workbench|cannot be opened as a database|is empty \(0 bytes\)|is an empty database/;

export function openStore(path: string): Store {
  return openWith(path, () => Store.open(path));
}

function openWith(path: string, open: () => Store): Store {
  try {
    return open();
  } catch (e) {
    if (isDamage(e)) throw damaged(path, e);
    const message = (e as Error).message;
    throw WRONG_FILE.test(message) ? invalid(`--db: ${message}`) : failure(message);
  }
}

/** Opens --db of a reading command read-only, runs `use` and closes it; a damaged file is exit 2. */
export function withReadStore<T>(path: string, use: (store: Store) => T): T {
  checkExistingDb(path);
  const store = openWith(path, () => Store.openReadOnly(path));
  try {
    return use(store);
  } catch (e) {
    throw isDamage(e) ? damaged(path, e) : e;
  } finally {
    store.close();
  }
}

/** An SQLite error that means the file's pages are damaged (found by any query, at any time). */
export function isDamage(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB';
}

export function damaged(path: string, e: unknown): CliError {
  return invalid(
    `--db: ${path} is damaged (${(e as Error).message}); nothing was changed. Restore it from a copy, or salvage its rows with \`sqlite3 ${path} .recover\``,
  );
}
