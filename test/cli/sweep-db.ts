/** Reading the databases the sweep tests write: real SQLite files, opened read-only. */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

export function rows<T>(db: string, sql: string): T[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare(sql).all() as T[];
  } finally {
    conn.close();
  }
}

export const runsOf = (db: string) =>
  rows<{ id: number; status: string; experiment_hash: string; seed: number; error: string | null }>(
    db,
    'SELECT id, status, experiment_hash, seed, error FROM runs ORDER BY id',
  );

/** Runs stored so far; 0 while the sweep has not yet created the file or its tables. */
export function storedRuns(db: string): number {
  try {
    return existsSync(db) ? runsOf(db).length : 0;
  } catch {
    return 0;
  }
}
