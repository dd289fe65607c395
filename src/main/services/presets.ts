/**
 * The shipped starting points: hardware presets (`resources/presets/hardware/*.json`,
 * partial hardware objects that an experiment names in `hardware.preset`) and example
 * experiments (`resources/experiments/*.json`).
 *
 * `resources/` is found from this module's own location, not from the working directory,
 * so the same code works from `src/` (vitest runs the .ts sources) and from
 * `dist/src/...` (after `tsc`), wherever the user's shell happens to be.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PresetMap } from '../../sim/config/validate.js';

export interface HardwarePreset {
  /** The file name without `.json`; what `hardware.preset` names. */
  name: string;
  /** The top-level `"$comment"`, or '' when the file has none. */
  description: string;
  file: string;
  /** The partial hardware object, `"$comment"` keys included (validation strips them). */
  hardware: unknown;
}

export interface ExampleExperiment {
  /** The file name without `.json`. */
  name: string;
  /** The experiment's own `name` field. */
  title: string;
  /** Its `description`, or else its top-level `"$comment"`. */
  description: string;
  file: string;
}

let cachedRoot: string | undefined;

/**
 * The `resources` folder: the nearest ancestor of this module holding `resources/presets`.
 * Throws, naming where it looked, if there is none (a broken install).
 */
export function resourcesDir(): string {
  if (cachedRoot) return cachedRoot;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ;) {
    if (existsSync(join(dir, 'resources', 'presets'))) return (cachedRoot = join(dir, 'resources'));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`no resources/presets folder above ${start}; the installation is incomplete`);
}

function jsonFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(folder, f));
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); the installation is damaged`);
  }
}

function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1).replace(/\.json$/, '');
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Every hardware preset, sorted by name. */
export function loadHardwarePresets(dir = join(resourcesDir(), 'presets', 'hardware')): HardwarePreset[] {
  return jsonFiles(resolve(dir)).map((file) => {
    const hardware = readJson(file);
    const description =
      hardware && typeof hardware === 'object' ? text((hardware as Record<string, unknown>).$comment) : '';
    return { name: baseName(file), description, file, hardware };
  });
}

/** The presets as `validateExperiment` takes them. */
export function loadPresetMap(dir?: string): PresetMap {
  return Object.fromEntries(loadHardwarePresets(dir).map((p) => [p.name, p.hardware]));
}

/** Every example experiment, sorted by file name. */
export function loadExampleExperiments(dir = join(resourcesDir(), 'experiments')): ExampleExperiment[] {
  return jsonFiles(resolve(dir)).map((file) => {
    const doc = readJson(file);
    const o = doc && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
    return { name: baseName(file), title: text(o.name), description: text(o.description) || text(o.$comment), file };
  });
}
