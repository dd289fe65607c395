/**
 * Turning a JSON document into a validated experiment: strip "$" keys (comments, $schema),
 * merge the hardware preset, parse with the schema, and report every problem at once (up
 * to MAX_ISSUES) as a JSON path and a plain sentence that says what would be valid.
 */
import type { z } from 'zod';
import { experimentSchema, type Experiment } from './experiment.js';
import { closest, describeInput, listText } from '../schema/fields.js';
import { checkScript } from '../workload/scripted.js';
import { fitProblems } from './fit.js';

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

/** Deeper than any experiment needs; also keeps every recursive walk of a document shallow. */
export const MAX_DEPTH = 32;
/** Problems reported at once; the rest are counted, so a huge broken file gives a short answer. */
export const MAX_ISSUES = 50;

export function validateExperiment(raw: unknown, presets: PresetMap = {}): ValidationResult {
  const issues: ConfigIssue[] = [];
  const cleaned = cleanDocument(raw, [], issues);
  if (issues.some((i) => i.message.startsWith(TOO_DEEP))) return { ok: false, issues: bounded(issues) };
  // A wrong preset is reported with everything else: validation goes on without it.
  const merged = applyPreset(cleaned, presets, issues);
  const parsed = experimentSchema.safeParse(merged);
  if (!parsed.success) issues.push(...parsed.error.issues.flatMap((i) => toConfigIssues(i, merged)));
  else if (parsed.data.workload.impl === 'scripted') {
    for (const i of checkScript(parsed.data.workload.ops)) {
      issues.push({ path: formatPath(['workload', 'ops', ...i.path]), message: i.message });
    }
  }
  if (parsed.success && issues.length === 0) issues.push(...fitProblems(parsed.data));
  if (issues.length > 0 || !parsed.success) return { ok: false, issues: bounded(issues) };
  return { ok: true, experiment: parsed.data };
}

function bounded(issues: ConfigIssue[]): ConfigIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  const rest = issues.length - MAX_ISSUES;
  return [
    ...issues.slice(0, MAX_ISSUES),
    { path: '', message: `and ${rest} more ${rest === 1 ? 'problem' : 'problems'} (fix these first)` },
  ];
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

const TOO_DEEP = 'nested more than';

/**
 * A copy without "$" keys (comments, $schema). "__proto__" is refused: as a key of a
 * plain object it would set the prototype, and the values under it would apply without
 * passing the unknown-field check. Nesting deeper than MAX_DEPTH is refused, before any
 * recursive walk (zod's included) could overflow the stack.
 */
function cleanDocument(value: unknown, path: PropertyKey[], issues: ConfigIssue[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (path.length >= MAX_DEPTH) {
    issues.push({
      path: formatPath(path),
      message: `${TOO_DEEP} ${MAX_DEPTH} levels deep; an experiment document nests far less (remove the extra nesting)`,
    });
    return null;
  }
  if (Array.isArray(value)) return value.map((v, i) => cleanDocument(v, [...path, i], issues));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') {
      issues.push({
        path: formatPath([...path, k]),
        message: 'unknown field; "__proto__" is never a field of an experiment',
      });
    } else if (!k.startsWith('$')) out[k] = cleanDocument(v, [...path, k], issues);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function applyPreset(doc: unknown, presets: PresetMap, issues: ConfigIssue[]): unknown {
  if (!isPlainObject(doc) || !isPlainObject(doc.hardware)) return doc;
  if (doc.hardware.preset === undefined) return { ...doc, hardware: nameDevices(doc.hardware, undefined) };
  const name = doc.hardware.preset;
  const { preset: _, ...rest } = doc.hardware;
  // Own properties only: "toString" or "constructor" are not presets.
  if (typeof name !== 'string' || !Object.hasOwn(presets, name)) {
    const names = Object.keys(presets).sort();
    const near = typeof name === 'string' ? closest(name, names) : undefined;
    issues.push({
      path: 'hardware.preset',
      message: `${describeInput(name)} is not a hardware preset; use ${listText(names.map((n) => `"${n}"`)) || 'no preset (none are installed)'}${near ? ` (did you mean "${near}"?)` : ''}`,
    });
    return { ...doc, hardware: nameDevices(rest, undefined) };
  }
  const preset = cleanDocument(presets[name], [], []) as Record<string, unknown>;
  const { device: presetDevice, ...presetRest } = preset;
  const override = doc.hardware;
  // A list of devices starts each entry from the preset's device; `device` merges over it.
  const base = Array.isArray(override.devices) ? presetRest : preset;
  const hardware = deepMerge(base, override) as Record<string, unknown>;
  return { ...doc, hardware: nameDevices(hardware, presetDevice) };
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
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(Object.hasOwn(base, k) ? base[k] : undefined, v);
  return out;
}
