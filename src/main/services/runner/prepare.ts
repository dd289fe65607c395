/**
 * From experiment text to something the worker can run, touching nothing but the trace
 * file's metadata: parse (syntax errors with line and column), apply a seed override,
 * validate against the schema and the hardware presets, and resolve a trace workload's
 * file against the experiment's folder. Everything that can be wrong with the input is
 * found here, before a database is opened, so invalid input writes nothing.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Experiment } from '../../../sim/config/experiment.js';
import { validateExperiment, type ConfigIssue, type PresetMap } from '../../../sim/config/validate.js';
import { loadPresetMap } from '../presets.js';
import { describeJsonSyntaxError, parseJsonText } from './json-text.js';
import { isSeed, MAX_SEED } from './seed.js';

export { isSeed, MAX_SEED } from './seed.js';

export interface PrepareOptions {
  /** Replaces the document's `seed`. */
  seed?: number;
  /** Folder that a relative trace path is resolved against (the experiment file's); default the cwd. */
  baseDir?: string;
  /** Hardware presets; default the shipped ones. */
  presets?: PresetMap;
}

export interface PreparedExperiment {
  /** Validated, defaults filled in, seed applied, a trace path made absolute. */
  experiment: Experiment;
  /** The experiment as run, as JSON: what the store records. */
  json: string;
  tracePath: string | null;
}

export type Prepared = ({ ok: true } & PreparedExperiment) | { ok: false; issues: ConfigIssue[] };

export function prepareExperiment(text: string, options: PrepareOptions = {}): Prepared {
  const parsed = parseJsonText(text);
  // A syntax error has no JSON path; its message carries the line and column instead.
  if (!parsed.ok) return { ok: false, issues: [{ path: '', message: describeJsonSyntaxError(parsed.error) }] };
  return prepareExperimentValue(parsed.value, options);
}

/** As prepareExperiment, for a document already parsed (a sweep's point, made by the services). */
export function prepareExperimentValue(value: unknown, options: PrepareOptions = {}): Prepared {
  let raw = value;
  if (options.seed !== undefined) {
    if (!isSeed(options.seed)) {
      return {
        ok: false,
        issues: [{ path: 'seed', message: `${options.seed} is not a seed; use a whole number from 0 to ${MAX_SEED}` }],
      };
    }
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) raw = { ...raw, seed: options.seed };
  }
  const v = validateExperiment(raw, options.presets ?? loadPresetMap());
  if (!v.ok) return { ok: false, issues: v.issues };
  let experiment = v.experiment;
  let tracePath: string | null = null;
  if (experiment.workload.impl === 'trace') {
    const written = experiment.workload.path;
    const baseDir = options.baseDir ?? process.cwd();
    tracePath = isAbsolute(written) ? written : resolve(baseDir, written);
    const problem = fileProblem(tracePath);
    if (problem) {
      const where = tracePath === written ? '' : ` (resolved against ${baseDir}, the experiment's folder)`;
      return {
        ok: false,
        issues: [
          {
            path: 'workload.path',
            message: `${JSON.stringify(written)}${where} ${problem}; give the path of a trace file, absolute or relative to the experiment file`,
          },
        ],
      };
    }
    experiment = { ...experiment, workload: { ...experiment.workload, path: tracePath } };
  }
  return { ok: true, experiment, json: JSON.stringify(experiment), tracePath };
}

function fileProblem(path: string): string | null {
  try {
    return statSync(path).isFile() ? null : 'is not a file';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`;
  }
}
