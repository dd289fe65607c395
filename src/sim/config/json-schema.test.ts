import { describe, expect, it } from 'vitest';
import { experimentJsonSchema } from './json-schema.js';

describe('experimentJsonSchema', () => {
  const schema = experimentJsonSchema() as {
    properties: Record<string, { description?: string; properties?: Record<string, unknown> }>;
    additionalProperties: unknown;
    patternProperties: unknown;
  };

  it('is generated from the zod schema, with descriptions for the editor', () => {
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['name', 'seed', 'hardware', 'strategy', 'workload']),
    );
    expect(schema.properties.seed.description).toMatch(/bit for bit/);
    expect(schema.properties.hardware.properties).toHaveProperty('link');
  });

  it('rejects unknown keys but allows "$" keys such as "$comment" and "$schema"', () => {
    expect(schema.additionalProperties).toBe(false);
    expect(schema.patternProperties).toEqual({ '^\\$': {} });
  });

  it('documents every field: each property of every object has a description', () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((n) => walk(n, path));
      const n = node as Record<string, unknown>;
      for (const [key, value] of Object.entries((n.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof value.description !== 'string' || value.description === '') undocumented.push(`${path}.${key}`);
        walk(value, `${path}.${key}`);
      }
      for (const key of ['anyOf', 'oneOf', 'allOf', 'items']) walk(n[key], path);
    };
    walk(schema, '');
    expect(undocumented).toEqual([]);
  });
});
