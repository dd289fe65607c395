/**
 * The link registry: every link implementation, one row each ({impl, schema, create}).
 * Adding an implementation is adding its file and one row.
 */
import { z } from 'zod';
import { describeInput } from '../../schema/fields.js';
import { CoherentLink, coherentLinkSchema } from './coherent.js';
import { PcieLink, pcieLinkSchema } from './pcie.js';
import { lookup, type Registration } from '../../schema/registry.js';
import type { Link } from './types.js';

export const LINKS = [
  { impl: 'pcie', schema: pcieLinkSchema, create: (c: z.output<typeof pcieLinkSchema>): Link => new PcieLink(c) },
  {
    impl: 'coherent',
    schema: coherentLinkSchema,
    create: (c: z.output<typeof coherentLinkSchema>): Link => new CoherentLink(c),
  },
] as const satisfies readonly Registration<Link>[];

type LinkSchema = (typeof LINKS)[number]['schema'];
export const LINK_IMPLS = LINKS.map((l) => l.impl);
const implList = LINK_IMPLS.map((i) => `"${i}"`).join(' or ');

export const linkSchema = z
  .discriminatedUnion('impl', LINKS.map((l) => l.schema) as unknown as [LinkSchema, ...LinkSchema[]], {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined;
      const impl = (iss.input as { impl?: unknown } | undefined)?.impl;
      return impl === undefined
        ? `the link has no "impl"; use ${implList}`
        : `${describeInput(impl)} is not a link implementation; use ${implList} in "impl"`;
    },
  })
  .describe(
    'The CPU-device link. "impl" picks the implementation: "pcie" (generation 3 to 6) or "coherent" (OpenCAPI, CXL, NVLink-C2C).',
  );

export type LinkConfig = z.infer<typeof linkSchema>;

export function createLink(config: LinkConfig): Link {
  const row = lookup(LINKS, config.impl, 'link');
  return (row.create as (c: LinkConfig) => Link)(config);
}

export type { Direction, Link, LinkStats } from './types.js';
export { D2H, H2D } from './types.js';
