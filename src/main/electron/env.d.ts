/** What electron-vite replaces at build time in the main process bundle. */
interface ImportMetaEnv {
  /** true in `electron-vite dev`, false in every build for use. */
  readonly DEV: boolean;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
