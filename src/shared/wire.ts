/**
 * JSON for the web transport that keeps what results really hold: JSON has no NaN or
 * Infinity, so they travel as `{"$number": "NaN"}` (and "Infinity", "-Infinity") and come
 * back as numbers. Everything else is plain JSON.
 */
const TAG = '$number';

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? { [TAG]: String(v) } : v,
  );
}

/** Throws SyntaxError for text that is not JSON. */
export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const tagged = (v as Record<string, unknown>)[TAG];
      if (keys.length === 1 && typeof tagged === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(tagged)) {
        return Number(tagged);
      }
    }
    return v;
  });
}
