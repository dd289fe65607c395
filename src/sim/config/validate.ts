/**
 * Turning a JSON document into a validated experiment: strip "$" keys (comments, $schema),
 * merge the hardware preset, parse with the schema, and report every problem as a JSON
 * path and a plain sentence that says what would be valid.
 */
import type { z } from 'zod';
import { experimentSchema, type Experiment } from './experiment.js';
import { closest, describeInput, listText } from '../schema/fields.js';
import { checkScript } from '../workload/scripted.js';

export interface ConfigIssue {
  /** JSON path, e.g. "hardware.link.lanes" or "workload.ops[3].region". */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Hardware presets by name: partial hardware objects (with "$comment" documentation). */
export type PresetMap = Record<string, unknown>;

export type ValidationResult = { ok: true; experiment: Experiment } | { ok: false; issues: ConfigIssue[] };

export function validateExperiment(raw: unknown, presets: PresetMap = {}): ValidationResult {
  const stripped = stripDollarKeys(raw);
  const merged = applyPreset(stripped, presets);
  if ('issue' in merged) return { ok: false, issues: [merged.issue] };
  const parsed = experimentSchema.safeParse(merged.value);
  if (!parsed.success)
    return { ok: false, issues: parsed.error.issues.flatMap((i) => toConfigIssues(i, merged.value)) };
  const experiment = parsed.data;
  if (experiment.workload.impl === 'scripted') {
    const issues = checkScript(experiment.workload.ops).map((i) => ({
      path: formatPath(['workload', 'ops', ...i.path]),
      message: i.message,
    }));
    if (issues.length > 0) return { ok: false, issues };
  }
  return { ok: true, experiment };
}

/** Like validateExperiment, but throws a ConfigError. */
export function parseExperiment(raw: unknown, presets: PresetMap = {}): Experiment {
  const r = validateExperiment(raw, presets);
  if (!r.ok) throw new ConfigError(r.issues);
  return r.experiment;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function toConfigIssues(issue: z.core.$ZodIssue, doc: unknown): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    // obj() words one clause per key ('unknown field "k"; did you mean ...'): give each
    // key its own issue at its own path.
    const clauses = issue.message.split(/; (?=unknown field ")/);
    return issue.keys.map((key, i) => ({
      path: formatPath([...issue.path, key]),
      message: (clauses[i] ?? issue.message).replace(`unknown field ${JSON.stringify(key)}`, 'unknown field'),
    }));
  }
  return [toConfigIssue(issue, doc)];
}

function toConfigIssue(issue: z.core.$ZodIssue, doc: unknown): ConfigIssue {
  const path = formatPath(issue.path);
  if (
    issue.code === 'invalid_union' &&
    issue.message.startsWith('Invalid discriminator') &&
    'options' in issue &&
    Array.isArray(issue.options)
  ) {
    // zod reports a wrong or missing discriminator ("impl", "op") without the value: look it up.
    const options = (issue.options as unknown[]).map(String);
    const got = valueAt(doc, issue.path);
    const key = String(issue.path[issue.path.length - 1]);
    const owner = issue.path.length > 1 ? issue.path[issue.path.length - 2] : undefined;
    const list = listText(options.map((o) => JSON.stringify(o)));
    const near = typeof got === 'string' ? closest(got, options) : undefined;
    const message =
      got === undefined
        ? `missing; set "${key}" to ${list}`
        : `${describeInput(got)} is not a valid ${typeof owner === 'string' ? `${owner} ` : ''}${key}; use ${list}${near ? ` (did you mean "${near}"?)` : ''}`;
    return { path, message };
  }
  if (issue.code === 'invalid_type' && valueAt(doc, issue.path) === undefined) {
    return {
      path,
      message: `missing; ${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')}`,
    };
  }
  return { path, message: issue.message };
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function stripDollarKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDollarKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDollarKeys(v);
    return out;
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function applyPreset(doc: unknown, presets: PresetMap): { value: unknown } | { issue: ConfigIssue } {
  if (!isPlainObject(doc) || !isPlainObject(doc.hardware)) return { value: doc };
  if (doc.hardware.preset === undefined) return { value: { ...doc, hardware: nameDevices(doc.hardware, undefined) } };
  const name = doc.hardware.preset;
  const names = Object.keys(presets).sort();
  if (typeof name !== 'string' || !(name in presets)) {
    const near = typeof name === 'string' ? closest(name, names) : undefined;
    return {
      issue: {
        path: 'hardware.preset',
        message: `${describeInput(name)} is not a hardware preset; use ${listText(names.map((n) => `"${n}"`)) || 'no preset (none are installed)'}${near ? ` (did you mean "${near}"?)` : ''}`,
      },
    };
  }
  const preset = stripDollarKeys(presets[name]) as Record<string, unknown>;
  const { device: presetDevice, ...rest } = preset;
  const override = doc.hardware;
  // A list of devices starts each entry from the preset's device; `device` merges over it.
  const base = Array.isArray(override.devices) ? rest : preset;
  const hardware = deepMerge(base, override) as Record<string, unknown>;
  return { value: { ...doc, hardware: nameDevices(hardware, presetDevice) } };
}

/**
 * Entries of a `devices` list start from `template` (the preset's device) and, when they
 * give no name, are named after their position ("gpu0", "gpu1", ... from a preset's "gpu0";
 * "device0", "device1", ... otherwise), so a list of identical devices needs no names.
 */
function nameDevices(hardware: Record<string, unknown>, template: unknown): Record<string, unknown> {
  if (!Array.isArray(hardware.devices)) return hardware;
  const templateName = isPlainObject(template) && typeof template.name === 'string' ? template.name : 'device0';
  const stem = templateName.replace(/\d+$/, '');
  const devices = hardware.devices.map((entry: unknown, i: number) => {
    const merged = template === undefined ? entry : deepMerge(template, entry);
    if (!isPlainObject(merged) || (isPlainObject(entry) && entry.name !== undefined)) return merged;
    return { ...merged, name: `${stem}${i}` };
  });
  return { ...hardware, devices };
}

/** Overrides win; objects merge key by key, except that a different `impl` replaces the whole object. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  if (override.impl !== undefined && base.impl !== undefined && override.impl !== base.impl) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}
