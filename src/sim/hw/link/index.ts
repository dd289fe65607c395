/**
 * The link registry: every link implementation, one line each. Adding an implementation is
 * adding a file, its schema to `linkSchema` and a case to `createLink`.
 */
import { z } from 'zod';
import { describeInput } from '../../config/fields.js';
import { CoherentLink, coherentLinkSchema } from './coherent.js';
import { PcieLink, pcieLinkSchema } from './pcie.js';
import type { Link } from './types.js';

export const LINK_IMPLS = ['pcie', 'coherent'] as const;

export const linkSchema = z
  .discriminatedUnion('impl', [pcieLinkSchema, coherentLinkSchema], {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined;
      const impl = (iss.input as { impl?: unknown } | undefined)?.impl;
      return impl === undefined
        ? 'the link has no "impl"; use "pcie" or "coherent"'
        : `${describeInput(impl)} is not a link implementation; use "pcie" or "coherent" in "impl"`;
    },
  })
  .describe(
    'The CPU-device link. "impl" picks the implementation: "pcie" (generation 3 to 6) or "coherent" (OpenCAPI, CXL, NVLink-C2C).',
  );

export type LinkConfig = z.infer<typeof linkSchema>;

export function createLink(config: LinkConfig): Link {
  switch (config.impl) {
    case 'pcie':
      return new PcieLink(config);
    case 'coherent':
      return new CoherentLink(config);
  }
}

export type { Direction, Link, LinkStats } from './types.js';
export { D2H, H2D } from './types.js';
