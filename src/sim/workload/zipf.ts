/**
 * Zipf-distributed ranks in O(1) time and memory per sample: rejection-inversion
 * sampling (W. Hörmann and G. Derflinger, "Rejection-inversion to generate variates from
 * monotone discrete distributions", ACM TOMACS 6(3), 1996). It needs no table of the
 * distribution, so a table of 2^27 elements costs nothing to set up, and a sample
 * allocates nothing. It is exact; the "approximation" is only floating-point rounding.
 * P(rank k) is proportional to k^-s for k in 1..n, any s > 0.
 */
import type { Rng } from '../engine/rng.js';

export class ZipfSampler {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly squeeze: number;

  constructor(
    private readonly n: number,
    private readonly s: number,
    private readonly rng: Rng,
  ) {
    if (!(n >= 1) || !(s > 0)) throw new RangeError(`zipf needs n >= 1 and s > 0, got n=${n}, s=${s}`);
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.squeeze = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in [0, n): 0 is the most frequent. */
  sample(): number {
    for (;;) {
      const u = this.hIntegralN + this.rng.nextFloat() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.squeeze || u >= this.hIntegral(k + 0.5) - this.h(k)) return k - 1;
    }
  }

  /** h(x) = x^-s, the unnormalized density. */
  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  /** H(x), an antiderivative of h: (x^(1-s) - 1) / (1 - s), continuous at s = 1 (log x). */
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.s) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1; // rounding can push t just below the domain of log1p
    return Math.exp(helper1(t) * x);
  }
}

/** log1p(x) / x, accurate near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** expm1(x) / x, accurate near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}
