/**
 * `--set PATH=VALUE`: fields of an experiment overridden from outside its file. Each value
 * is written at its JSON path in the document (objects created on the way, so an override
 * beside a preset works, as in a sweep's point), and the result is prepared like any
 * experiment: an override is only as valid as the validator says, in its own words.
 */
import { missingField, parseJsonPath, setAt } from '../../../sim/config/sweep.js';
import type { ConfigIssue } from '../../../sim/config/validate.js';
import { describeJsonSyntaxError, parseJsonText } from './json-text.js';
import { prepareExperiment, type PrepareOptions, type Prepared } from './prepare.js';

export interface Override {
  /** As given, e.g. `hardware.link.lanes=8`: what messages quote. */
  text: string;
  path: string;
  keys: (string | number)[];
  value: unknown;
}

/** `PATH=VALUE`; VALUE is JSON when it parses as JSON (8, true, "x", [1,2]), else the text itself (64MiB). */
export function parseOverride(text: string): { ok: true; override: Override } | { ok: false; message: string } {
  const eq = text.indexOf('=');
  if (eq < 0) {
    return { ok: false, message: `${JSON.stringify(text)} has no "="; write PATH=VALUE, e.g. hardware.link.lanes=8` };
  }
  const path = text.slice(0, eq).trim();
  const keys = parseJsonPath(path);
  if (!keys) {
    return {
      ok: false,
      message: `${JSON.stringify(path)} is not a JSON path; write keys with dots and indices in brackets, e.g. hardware.devices[0].computeUnits=54`,
    };
  }
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the text is the value, so sizes and names need no quotes (64MiB, hmm-mirror).
  }
  return { ok: true, override: { text, path, keys, value } };
}

/** An issue an override caused, with the override it belongs to. */
export interface OverrideIssue extends ConfigIssue {
  override?: Override;
}

/**
 * The experiment `text` with `overrides` applied, prepared; or every problem, each tied to
 * the override it lies under when there is one.
 */
export function prepareWithOverrides(
  text: string,
  overrides: readonly Override[],
  options: PrepareOptions = {},
): Prepared | { ok: false; issues: OverrideIssue[] } {
  if (overrides.length === 0) return prepareExperiment(text, options);
  const parsed = parseJsonText(text);
  if (!parsed.ok) return { ok: false, issues: [{ path: '', message: describeJsonSyntaxError(parsed.error) }] };
  const doc = parsed.value;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return prepareExperiment(text, options);
  const changed = structuredClone(doc) as Record<string, unknown>;
  for (const o of overrides) setAt(changed, o.keys, o.value);
  const prepared = prepareExperiment(JSON.stringify(changed), options);
  if (prepared.ok) return prepared;

  // The base as validated (preset expanded, defaults filled) tells a misspelt path from
  // an optional field the base leaves out.
  const base = prepareExperiment(text, options);
  const issues: OverrideIssue[] = [];
  /** Where each misspelt override leaves the base: what it created is explained by the misspelling. */
  const explained: { prefix: string; override: Override }[] = [];
  if (base.ok) {
    for (const o of overrides) {
      const missing = missingField(o.path, o.keys, base.experiment);
      if (!missing) continue;
      const prefix = existingPrefix(o.keys, base.experiment);
      if (!prepared.issues.some((i) => under(i.path, prefix))) continue; // an optional field, refused for another reason
      // The message quotes the path itself.
      issues.push({ path: '', message: missing, override: o });
      explained.push({ prefix, override: o });
    }
  }
  for (const issue of prepared.issues) {
    if (explained.some((e) => under(issue.path, e.prefix))) continue;
    const o = overrides.findLast((x) => under(issue.path, x.path));
    issues.push(o ? { ...issue, override: o } : issue);
  }
  return { ok: false, issues };
}

/** The longest start of `keys` that exists in `doc`, as a path ('' when not even the first key does). */
function existingPrefix(keys: readonly (string | number)[], doc: unknown): string {
  let path = '';
  let v = doc;
  for (const key of keys) {
    const next = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
    if (next === undefined) break;
    path += typeof key === 'number' ? `[${key}]` : path ? `.${key}` : key;
    v = next;
  }
  return path;
}

/** Whether `path` is `prefix` or lies inside it. */
function under(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}
