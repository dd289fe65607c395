/**
 * One error type from the fault path to the CLI: the errno or signal an operation ends
 * with, and a sentence that says which address and why. The fault path passes codes as
 * negative numbers in place of a time (no allocation); everything above it carries an
 * `OpError`.
 */
export const ERRNOS = [
  'EFAULT',
  'EPERM',
  'EINVAL',
  'EBUSY',
  'ENOMEM',
  'ENOENT',
  'SIGSEGV',
  'SIGBUS',
  'EREMOTEIO',
] as const;
export type Errno = (typeof ERRNOS)[number];

/** Negative codes returned instead of a time on hot paths: -(index in ERRNOS + 1). */
export const ERR_EFAULT = -1;
export const ERR_EPERM = -2;
export const ERR_EINVAL = -3;
export const ERR_EBUSY = -4;
export const ERR_ENOMEM = -5;
export const ERR_ENOENT = -6;
export const ERR_SIGSEGV = -7;
export const ERR_SIGBUS = -8;
/** No peer-to-peer route between two devices (what dma_map_sgtable returns for PCI_P2PDMA_MAP_NOT_SUPPORTED). */
export const ERR_EREMOTEIO = -9;

export function errnoOf(code: number): Errno {
  const name = ERRNOS[-code - 1];
  if (name === undefined) throw new RangeError(`${code} is not an error code`);
  return name;
}

export function codeOf(errno: Errno): number {
  return -(ERRNOS.indexOf(errno) + 1);
}

/** An operation's failure: what a scripted op's `expect` is compared with, and what a run reports. */
export class OpError {
  constructor(
    readonly errno: Errno,
    readonly message: string,
  ) {}

  toString(): string {
    return `${this.errno}: ${this.message}`;
  }
}

/** A time, or the error that stopped the operation. */
export type Outcome = number | OpError;

export function isError(outcome: Outcome): outcome is OpError {
  return typeof outcome !== 'number';
}
