/**
 * Checking arguments before anything is written: every error here exits 2 and names the
 * argument and what would be valid.
 */
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ConfigIssue } from '../sim/config/validate.js';
import { MAX_SEED } from '../main/services/runner/seed.js';
import { NoSuchRunsError, Store } from '../main/services/store/store.js';
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

/** "1,2,5-7" -> [1, 2, 5, 6, 7], in order, without repeats. `label` names the argument in errors. */
export function parseRunIds(text: string, label = '--runs'): number[] {
  const example = label === '--runs' ? '--runs 1,2 or --runs 3-5' : '1,2 or 3-5';
  const bad = (why: string) =>
    invalid(
      `${label}: ${JSON.stringify(text)} ${why}; use run ids (whole numbers from 1) separated by commas, or ranges: ${example}`,
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

/** One run id, e.g. the RUN of `hetmem show RUN`. */
export function parseRunId(text: string, label = 'RUN'): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw invalid(
      `${label}: ${JSON.stringify(text)} is not a run id; give a whole number from 1 (\`hetmem runs\` lists them)`,
    );
  }
  return n;
}

/** Throws the NoSuchRunsError of `use` as an invalid argument (exit 2) naming `label`. */
export function requireRunsArg<T>(label: string, use: () => T): T {
  try {
    return use();
  } catch (e) {
    throw e instanceof NoSuchRunsError ? invalid(`${label}: ${e.message}`) : e;
  }
}

/**
 * The --out of a command that writes a new file: its folder exists, it is not the
 * database being read, and it is only replaced with --overwrite.
 */
export function checkOutFile(out: string, db: string, overwrite: boolean): void {
  const outDir = dirname(resolve(out));
  if (!existsSync(outDir)) throw invalid(`--out: the folder ${outDir} does not exist; create it or give another path`);
  if (!existsSync(out)) return;
  if (statSync(out).isDirectory()) throw invalid(`--out: ${out} is a folder; give a file name`);
  if (sameFile(out, db)) {
    throw invalid(`--out: ${out} is the database being read (--db); give the output another file name`);
  }
  if (!overwrite)
    throw invalid(`--out: ${out} already exists; choose a new file name, or add --overwrite to replace it`);
}

/** The same file under two names (real paths, or hard links: the same inode). */
function sameFile(a: string, b: string): boolean {
  try {
    if (realpathSync(a) === realpathSync(b)) return true;
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Writes under a temporary name and renames, so `path` is never seen half written. */
export function writeWhole(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw failure(`writing ${path} failed, nothing was written: ${(e as Error).message}`);
  }
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
    if (WRONG_FILE.test(message)) throw invalid(`--db: ${message}`);
    throw failure(/ is (locked|read-only here)\b/.test(message) ? `--db: ${message}` : message);
  }
}

/**
 * Opens --db of a reading command read-only, runs `use` and closes it (once the promise
 * `use` returns settles, for an async one); a damaged file is exit 2.
 */
export function withReadStore<T>(path: string, use: (store: Store) => T): T {
  checkExistingDb(path);
  const store = openWith(path, () => Store.openReadOnly(path));
  const rethrow = (e: unknown): never => {
    throw isDamage(e) ? damaged(path, e) : e;
  };
  let result: T;
  try {
    result = use(store);
  } catch (e) {
    store.close();
    return rethrow(e);
  }
  if (result instanceof Promise) {
    return result.catch(rethrow).finally(() => store.close()) as T;
  }
  store.close();
  return result;
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
