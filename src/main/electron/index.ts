/**
 * The Electron main process: one window on the bundled renderer, the services behind the
 * Api, and the security defaults (fixed, not options): context isolation, sandbox, no
 * Node in the renderer, new windows denied, navigation blocked, permissions refused,
 * every IPC request checked for its sender and validated against its zod schema.
 */
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { RUN_EVENT_CHANNEL } from '../../shared/channels.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_VERSION } from '../../sim/result/version.js';
import { Store } from '../services/store/store.js';
import { registerApi } from './ipc.js';
import { installMenu } from './menu.js';
import { createWorkbench } from '../services/workbench/index.js';
import { isTrustedFrame, rendererEntry, type RendererEntry } from './trust.js';

// Built layout (electron-vite): out/main/index.js, out/preload/index.cjs, out/renderer/index.html.
const OUT_MAIN = fileURLToPath(new URL('.', import.meta.url));
const PRELOAD_PATH = join(OUT_MAIN, '../preload/index.cjs');
const RENDERER_INDEX = join(OUT_MAIN, '../renderer/index.html');

function createWindow(entry: RendererEntry): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 500,
    show: false,
    title: 'Hetmem Workbench',
    webPreferences: {
      preload: PRELOAD_PATH,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
      // A middle click on a link would otherwise open it in a new window.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => win.show());
  const loading = entry.kind === 'url' ? win.loadURL(entry.url) : win.loadFile(entry.path);
  loading.catch((error: unknown) => console.error('[window] could not load the renderer:', error));
  return win;
}

/** Applies to every web contents the app ever creates, including ones we did not expect. */
function hardenWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    // The UI is a single page: any navigation away from it is refused.
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-frame-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  // The workbench needs no camera, notifications, clipboard reads or anything else.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

function start(): void {
  hardenWebContents();

  const databasePath = join(app.getPath('userData'), 'hetmem.sqlite');
  let store: Store;
  try {
    store = Store.open(databasePath);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    dialog.showErrorBox('Hetmem Workbench cannot open its database', `${databasePath}\n\n${message}`);
    app.exit(1);
    return;
  }

  const entry = rendererEntry({
    indexPath: RENDERER_INDEX,
    isPackaged: app.isPackaged,
    // Replaced by a constant at build time: false in every production build.
    devBuild: import.meta.env.DEV,
    devUrl: process.env['ELECTRON_RENDERER_URL'],
  });
  const workbench = createWorkbench(store, { databasePath, modelVersion: MODEL_VERSION });
  const unregister = registerApi(ipcMain, workbench.api, (frame) => isTrustedFrame(entry, frame), {
    onError: (channel, error) => console.error(`[ipc ${channel}]`, error),
  });
  // Run events go to every window's top frame (the only frames the Api trusts).
  const unsubscribe = workbench.events.onRunEvent((event) => {
    for (const win of BrowserWindow.getAllWindows()) win.webContents.send(RUN_EVENT_CHANNEL, event);
  });

  installMenu(() => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0]);
  createWindow(entry);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(entry);
  });
  let quitting = false;
  app.on('will-quit', (event) => {
    if (quitting) return;
    // Runs in progress are cancelled and recorded before the database closes.
    event.preventDefault();
    quitting = true;
    unsubscribe();
    unregister();
    void workbench.stop().finally(() => {
      store.close();
      app.quit();
    });
  });
}

// One instance per user: two would share one SQLite file and two sets of windows.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows();
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.whenReady().then(start, (error: unknown) => {
    console.error('[app] failed to start:', error);
    app.exit(1);
  });
}
