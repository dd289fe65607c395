/**
 * Merging another workbench's database into this store. Runs are identified by uuid and
 * experiments by hash, so importing a file twice, or a file exported from this store,
 * adds nothing; everything that is added gets new ids here. The other file is checked
 * whole (check-source.ts) before anything is merged, and is never changed.
 */
import { realpathSync } from 'node:fs';
import { checkImportSource } from './check-source.js';
import { copyRuns } from './copy.js';
import { openForReading } from './schema.js';
import type { Store } from './store.js';

export interface ImportReport {
  /** Runs added to the store. */
  imported: number;
  /** Runs already in the store (same uuid) or still running in the other database. */
  skipped: number;
}

export function importDatabase(store: Store, otherPath: string): ImportReport {
  if (sameFile(store.path, otherPath)) {
    throw new Error(`${otherPath} is the store itself; give the path of another Hetmem Workbench database to import`);
  }
  const other = openForReading(otherPath);
  try {
    checkImportSource(other, otherPath);
    const ids = other.prepare('SELECT id FROM runs ORDER BY id').pluck().all() as number[];
    // Read the other file in one read transaction too, so a writer there cannot show
    // us half of its changes.
    const { copied, skipped } = other.transaction(() =>
      store.db.transaction(() => copyRuns(other, store.db, ids, { keepIds: false }))(),
    )();
    return { imported: copied, skipped };
  } catch (e) {
    throw new Error(`importing ${otherPath} into ${store.path} failed, nothing was imported: ${(e as Error).message}`);
  } finally {
    other.close();
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false; // one does not exist (or ':memory:'): openForReading reports it
  }
}
