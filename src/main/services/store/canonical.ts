/**
 * Canonical JSON: the text that identifies an experiment. Two documents that differ
 * only in key order or whitespace have the same canonical text and so the same hash,
 * which is how the store deduplicates experiments across runs and databases.
 */
import { createHash } from 'node:crypto';

/** JSON text with object keys sorted (by UTF-16 code unit) at every depth, no whitespace. */
export function canonicalJson(value: unknown): string {
  return write(value, []);
}

/** sha256 (hex) of the canonical form of a JSON text; formatting and key order do not matter. */
export function experimentHash(json: string): string {
  return sha256(canonicalJson(parseExperiment(json)));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** JSON.parse with an error that says what was being parsed. */
export function parseExperiment(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new Error(
      `the experiment is not valid JSON (${(e as Error).message}); give the text of an experiment document`,
    );
  }
}

/** `at`: the keys and indexes down to `value`, joined into a path only for an error message. */
function write(value: unknown, at: (string | number)[]): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new Error(`${pathOf(at)}: ${value} cannot be written as JSON; use a finite number`);
      }
      return JSON.stringify(value);
    case 'object': {
      const parts: string[] = [];
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          at.push(i);
          parts.push(value[i] === undefined ? 'null' : write(value[i], at));
          at.pop();
        }
        return `[${parts.join(',')}]`;
      }
      const obj = value as Record<string, unknown>;
      for (const k of Object.keys(obj).sort()) {
        if (obj[k] === undefined) continue; // as JSON.stringify does
        at.push(k);
        parts.push(`${JSON.stringify(k)}:${write(obj[k], at)}`);
        at.pop();
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new Error(
        `${pathOf(at)}: a ${typeof value} cannot be written as JSON; use strings, numbers, booleans, null, arrays and objects`,
      );
  }
}

/** `$.a.b[2]`, as the messages name a place in the document. */
function pathOf(at: readonly (string | number)[]): string {
  return `$${at.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
}
