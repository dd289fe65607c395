/**
 * Files in scripted workloads: what checkScript checks of the ops that name a file (an
 * mmap with `file`, file.write, file.read, fsync) or need one (msync), and the plan's
 * list of files. A file is created empty by the first op that names it (an mmap or a
 * file.write) and grows to cover every mapping and write of it; file.read and fsync need
 * a file created before them.
 */
import { closest, listText } from '../schema/fields.js';
import type { ScriptIssue, ScriptOp } from './scripted.js';
import type { FileSpec } from './types.js';

const PAGE_BYTES = 4096;

type Op<K extends ScriptOp['op']> = Extract<ScriptOp, { op: K }>;

/** How far an op extends the file it names, or undefined when it names none or does not create one. */
function extent(op: ScriptOp): { file: string; end: number } | undefined {
  if (op.op === 'mmap' && op.file !== undefined)
    return { file: op.file, end: (op.fileOffsetBytes ?? 0) + op.sizeBytes };
  if (op.op === 'file.write') return { file: op.file, end: op.offsetBytes + op.sizeBytes };
  return undefined;
}

/** The files a script uses, in the order they are created, each at the largest size it reaches. */
export function scriptFiles(ops: readonly ScriptOp[]): FileSpec[] {
  const files = new Map<string, number>();
  for (const op of ops) {
    const e = extent(op);
    if (e !== undefined) files.set(e.file, Math.max(files.get(e.file) ?? 0, e.end));
  }
  return [...files].map(([name, sizeBytes]) => ({ name, sizeBytes }));
}

/** What checkScript knows of files at each op, in op order. */
export class FileChecks {
  /** Files created so far, and their sizes so far. */
  private readonly sizes = new Map<string, number>();
  /** The op that first creates each file. */
  private readonly createdBy = new Map<string, number>();
  /** The file each region maps (undefined: anonymous). */
  private readonly regionFile = new Map<string, string | undefined>();

  constructor(
    ops: readonly ScriptOp[],
    private readonly issues: ScriptIssue[],
  ) {
    ops.forEach((op, i) => {
      const e = extent(op);
      if (e !== undefined && !this.createdBy.has(e.file)) this.createdBy.set(e.file, i);
    });
  }

  /** An mmap op: its file fields, and the file it creates or extends. */
  mmap(op: Op<'mmap'>, i: number, what: string): void {
    this.regionFile.set(op.name, op.file);
    const offset = op.fileOffsetBytes;
    if (offset === undefined) {
      if (op.file !== undefined) this.extend(op.file, op.sizeBytes);
      return;
    }
    if (op.file === undefined) {
      this.issues.push({
        path: [i, 'fileOffsetBytes'],
        message: `${what}: fileOffsetBytes is an offset in a mapped file; give the file to map in "file", or leave fileOffsetBytes out for anonymous memory`,
      });
    } else if (offset % PAGE_BYTES !== 0) {
      this.issues.push({
        path: [i, 'fileOffsetBytes'],
        message: `${what}: fileOffsetBytes ${offset} is not a multiple of 4 KiB (mmap would fail with EINVAL); use ${Math.floor(offset / PAGE_BYTES) * PAGE_BYTES} or ${Math.ceil(offset / PAGE_BYTES) * PAGE_BYTES}`,
      });
    } else this.extend(op.file, offset + op.sizeBytes);
  }

  /** An mremap op: the new region maps what the old one did. */
  mremap(op: Op<'mremap'>): void {
    this.regionFile.set(op.name, this.regionFile.get(op.region));
  }

  /** An msync op on a region mapped before it: the region must map a file. */
  msync(op: Op<'msync'>, i: number, what: string): void {
    if (this.regionFile.get(op.region) !== undefined) return;
    this.issues.push({
      path: [i, 'region'],
      message: `${what}: region "${op.region}" is anonymous memory, which has nothing to write back; msync a region mapped with "file"`,
    });
  }

  /** A file.write, file.read or fsync op. */
  fileOp(op: Op<'file.write'> | Op<'file.read'> | Op<'fsync'>, i: number, what: string): void {
    if (op.op === 'file.write') {
      this.extend(op.file, op.offsetBytes + op.sizeBytes);
      return;
    }
    const size = this.sizes.get(op.file);
    if (size === undefined) {
      this.unknownFile(op.file, i, what);
      return;
    }
    if (op.op === 'fsync') return;
    if (op.offsetBytes > size) {
      this.issues.push({
        path: [i, 'offsetBytes'],
        message: `${what}: offsetBytes ${op.offsetBytes} is past the end of file "${op.file}" (${size} bytes at this op)`,
      });
    } else if (op.sizeBytes !== undefined && op.offsetBytes + op.sizeBytes > size) {
      this.issues.push({
        path: [i, 'sizeBytes'],
        message: `${what}: ${op.sizeBytes} bytes from offset ${op.offsetBytes} run past the end of file "${op.file}" (${size} bytes at this op); read at most ${size - op.offsetBytes}`,
      });
    }
  }

  private extend(file: string, end: number): void {
    this.sizes.set(file, Math.max(this.sizes.get(file) ?? 0, end));
  }

  private unknownFile(file: string, i: number, what: string): void {
    const later = this.createdBy.get(file);
    const shown = [...this.sizes.keys()].slice(0, 9).map((n) => `"${n}"`);
    const valid =
      this.sizes.size > 0
        ? `files created before it: ${listText(shown, this.sizes.size)}`
        : 'no file is created before it; create one with an mmap op with "file", or with file.write';
    const near = closest(file, [...this.sizes.keys()]);
    this.issues.push({
      path: [i, 'file'],
      message:
        later !== undefined && later > i
          ? `${what} uses file "${file}" before op ${later} creates it; ${valid}`
          : `${what}: no file named "${file}"; ${valid}${near ? ` (did you mean "${near}"?)` : ''}`,
    });
  }
}
