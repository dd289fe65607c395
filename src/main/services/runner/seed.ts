/** The seed's range, apart from the schema so the CLI can check --seed without loading it. */
export const MAX_SEED = 2 ** 32 - 1;

/** Whether `seed` is a valid seed: a whole number from 0 to 2^32 - 1. */
export function isSeed(seed: unknown): seed is number {
  return typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;
}
