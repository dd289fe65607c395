/**
 * Which pages the workbench trusts: exactly the renderer entry it loaded itself, in the
 * top-level frame. Anything else (an iframe, a page reached by a navigation that slipped
 * through, a devtools extension) gets `forbidden` from every request.
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** Where the renderer comes from: the built file, or electron-vite's dev server. */
export type RendererEntry = { kind: 'file'; path: string } | { kind: 'url'; url: string };

/** A frame as far as the check needs it (Electron's WebFrameMain has these). */
export interface FrameLike {
  url: string;
  parent: unknown;
}

export function isTrustedFrame(entry: RendererEntry, frame: FrameLike | null | undefined): boolean {
  if (!frame || frame.parent !== null) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  if (entry.kind === 'file') {
    if (url.protocol !== 'file:') return false;
    // Query and hash do not change which file was loaded.
    url.search = '';
    url.hash = '';
    return resolve(fileURLToPath(url)) === resolve(entry.path);
  }
  return url.origin === new URL(entry.url).origin;
}
