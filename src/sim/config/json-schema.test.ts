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
});
