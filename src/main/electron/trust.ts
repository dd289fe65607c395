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
    try {
      return resolve(fileURLToPath(url)) === resolve(entry.path);
    } catch {
      return false; // e.g. file://host/... names no local file here
    }
  }
  return url.origin === new URL(entry.url).origin;
}

export interface EntryOptions {
  /** The built renderer page (out/renderer/index.html). */
  indexPath: string;
  /** app.isPackaged. */
  isPackaged: boolean;
  /** Whether this is a development build (electron-vite dev): import.meta.env.DEV. */
  devBuild: boolean;
  /** ELECTRON_RENDERER_URL, which electron-vite dev sets to its dev server. */
  devUrl: string | undefined;
}

/**
 * The renderer to load and trust. The dev server is used only by a development build
 * that is not packaged, and only on this machine: a packaged or production start always
 * loads the built file, whatever the environment says.
 */
export function rendererEntry({ indexPath, isPackaged, devBuild, devUrl }: EntryOptions): RendererEntry {
  const file: RendererEntry = { kind: 'file', path: indexPath };
  if (isPackaged || !devBuild || !devUrl) return file;
  let url: URL;
  try {
    url = new URL(devUrl);
  } catch {
    return file;
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return url.protocol === 'http:' && local ? { kind: 'url', url: url.href } : file;
}
