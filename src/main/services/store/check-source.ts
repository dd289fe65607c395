/**
 * What import checks in another database before it merges a single row: the file is
 * intact, every experiment's hash is the hash of its JSON (so a crafted file cannot make
 * later runs of a legitimate experiment point at foreign JSON), and every run's rows are
 * whole and readable. Each problem names the run or experiment.
 */
import { canonicalJson, parseExperiment, sha256 } from './canonical.js';
import type { Db } from './schema.js';

/** Problems listed in one error before the rest are only counted. */
const SHOWN = 5;

/** Throws one Error listing the source's problems (the first few, then a count). */
export function checkImportSource(db: Db, path: string): void {
  const problems = sourceProblems(db);
  if (problems.length === 0) return;
  const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : '';
  throw new Error(`${path} cannot be imported: ${problems.slice(0, SHOWN).join('; ')}${more}`);
}

export function sourceProblems(db: Db): string[] {
  const integrity = db.pragma('quick_check', { simple: true }) as string;
  if (integrity !== 'ok') return [`the file is damaged (SQLite quick_check: ${integrity})`];
  const problems: string[] = [];
  const experiments = db.prepare('SELECT id, name, hash, json FROM experiments ORDER BY id').iterate() as Iterable<{
    id: number;
    name: string;
    hash: string;
    json: string;
  }>;
  for (const e of experiments) {
    const what = `experiment ${e.id} (${JSON.stringify(e.name)})`;
    let hash: string;
    try {
      hash = sha256(canonicalJson(parseExperiment(e.json)));
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      continue;
    }
    if (hash !== e.hash) problems.push(`${what}: its stored hash is not the hash of its JSON; the file was altered`);
  }
  const runs = db
    .prepare(
      `SELECT r.id, r.uuid, r.name, r.status, r.experiment_hash, e.hash AS actual_hash,
              (SELECT count(*) FROM results_extra x WHERE x.run_id = r.id) AS extras,
              (SELECT count(*) FROM metrics m WHERE m.run_id = r.id) AS metrics
       FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id ORDER BY r.id`,
    )
    .iterate() as Iterable<{
    id: number;
    uuid: string;
    name: string;
    status: string;
    experiment_hash: string;
    actual_hash: string | null;
    extras: number;
    metrics: number;
  }>;
  const jsonColumns = [
    db.prepare('SELECT json FROM histograms WHERE run_id = ?').pluck(),
    db.prepare('SELECT ops_json FROM results_extra WHERE run_id = ?').pluck(),
    db.prepare('SELECT snapshots_json FROM results_extra WHERE run_id = ?').pluck(),
    db.prepare('SELECT tracks_json FROM timelines WHERE run_id = ?').pluck(),
  ];
  for (const r of runs) {
    const what = `run ${r.id} (${JSON.stringify(r.name)}, uuid ${r.uuid})`;
    if (r.actual_hash === null) problems.push(`${what}: its experiment does not exist in the file`);
    else if (r.actual_hash !== r.experiment_hash)
      problems.push(`${what}: its experiment hash does not match its experiment`);
    if (r.status === 'done' && r.extras !== 1) problems.push(`${what}: marked done but its result is missing`);
    if (r.status !== 'done' && (r.extras > 0 || r.metrics > 0)) {
      problems.push(`${what}: marked ${r.status} but holds result rows`);
    }
    for (const column of jsonColumns) {
      for (const text of column.all(r.id) as string[]) {
        try {
          JSON.parse(text);
        } catch {
          problems.push(`${what}: a result row holds text that is not JSON`);
        }
      }
    }
  }
  return problems;
}
