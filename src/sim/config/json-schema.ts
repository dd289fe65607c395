import { z } from 'zod';
import { experimentSchema } from './experiment.js';

/** The JSON Schema of an experiment document, generated from the zod schema (for editors). */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'Hetmem Workbench experiment' };
}
