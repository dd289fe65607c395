import { describe, expect, it } from 'vitest';
import { CoherentLink } from './coherent.js';
import { createLink, linkSchema } from './index.js';
import { PcieLink } from './pcie.js';

describe('link registry', () => {
  it('picks the implementation by impl', () => {
    expect(createLink(linkSchema.parse({ impl: 'pcie' }))).toBeInstanceOf(PcieLink);
    expect(createLink(linkSchema.parse({ impl: 'coherent' }))).toBeInstanceOf(CoherentLink);
    expect(createLink(linkSchema.parse({ impl: 'pcie', generation: 5, lanes: 8 })).name).toBe('pcie-gen5-x8');
  });

  it('explains an unknown implementation', () => {
    const r = linkSchema.safeParse({ impl: 'ethernet' });
    expect(r.error?.issues[0].message).toBe(
      '"ethernet" is not a link implementation; use "pcie" or "coherent" in "impl"',
    );
  });

  it("passes the implementation's own errors through, with their path", () => {
    const r = linkSchema.safeParse({ impl: 'pcie', lanes: 3 });
    expect(r.error?.issues[0].message).toBe('3 is not a PCIe link width; use 1, 2, 4, 8 or 16');
    expect(r.error?.issues[0].path).toEqual(['lanes']);
    const typo = linkSchema.safeParse({ impl: 'pcie', lanse: 16 });
    expect(typo.error?.issues[0].message).toBe('unknown field "lanse"; did you mean "lanes"?');
  });
});
