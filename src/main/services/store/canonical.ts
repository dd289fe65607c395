/**
 * Canonical JSON: the text that identifies an experiment. Two documents that differ
 * only in key order or whitespace have the same canonical text and so the same hash,
 * which is how the store deduplicates experiments across runs and databases.
 */
import { createHash } from 'node:crypto';

/** JSON text with object keys sorted (by UTF-16 code unit) at every depth, no whitespace. */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
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

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new Error(`${path}: ${value} cannot be written as JSON; use a finite number`);
      }
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => (v === undefined ? 'null' : write(v, `${path}[${i}]`))).join(',')}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined) // as JSON.stringify does
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new Error(
        `${path}: a ${typeof value} cannot be written as JSON; use strings, numbers, booleans, null, arrays and objects`,
      );
  }
}
