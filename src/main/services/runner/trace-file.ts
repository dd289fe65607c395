/**
 * A TraceSource over a file: read synchronously in 1 MiB chunks, so a trace of any size
 * is streamed through the simulator, never loaded whole. The simulator runs synchronously
 * inside a worker thread, hence sync reads.
 *
 * A UTF-8 character split across two chunks is held back by the StringDecoder until its
 * remaining bytes arrive, so no chunk ends in half a character.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { TraceSource } from '../../../sim/workload/types.js';

export const TRACE_CHUNK_BYTES = 1 << 20;

export interface TraceFile extends TraceSource {
  /** Closes the file; later reads return null. Safe to call twice. */
  close(): void;
}

/** Opens `path` for reading (throws the fs error, e.g. ENOENT, at once). */
export function openTraceFile(path: string, chunkBytes = TRACE_CHUNK_BYTES): TraceFile {
  let fd: number | null = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(chunkBytes);
  const decoder = new StringDecoder('utf8');
  const size = fstatSync(fd).size;
  let bytesRead = 0;
  const close = () => {
    if (fd !== null) closeSync(fd);
    fd = null;
  };
  return {
    name: path,
    readChunk(): string | null {
      // Loop because a chunk may decode to '' (only the start of a multi-byte character).
      while (fd !== null) {
        const n = readSync(fd, buffer, 0, buffer.length, null);
        bytesRead += n;
        if (n === 0) {
          close();
          const rest = decoder.end();
          return rest === '' ? null : rest;
        }
        const text = decoder.write(buffer.subarray(0, n));
        if (text !== '') return text;
      }
      return null;
    },
    /** Bytes read over the size at open; 1 for an empty file. */
    fractionRead: () => (size > 0 ? Math.min(1, bytesRead / size) : 1),
    close,
  };
}
