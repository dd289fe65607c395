import { z } from 'zod';
import { experimentSchema } from './experiment.js';

/**
 * The JSON Schema of an experiment document, generated from the zod schema (for editors
 * and other tools). Keys starting with "$" ("$comment", "$schema") are ignored by
 * validation, so the schema allows them in every object.
 */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  allowDollarKeys(schema);
  return { ...schema, title: 'Hetmem Workbench experiment' };
}

function allowDollarKeys(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(allowDollarKeys);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const object = node as Record<string, unknown>;
  if (object.type === 'object' && object.additionalProperties === false) {
    object.patternProperties = { '^\\$': {} };
  }
  for (const value of Object.values(object)) allowDollarKeys(value);
}
