/**
 * The application menu: the standard roles (so copy, paste and undo reach Monaco on every
 * platform) and the views, which the menu opens by setting the page's hash route.
 */
import { app, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';

const VIEWS = [
  { label: 'Experiment Editor', hash: '#/editor', accelerator: 'CmdOrCtrl+1' },
  { label: 'Runs', hash: '#/runs', accelerator: 'CmdOrCtrl+2' },
  { label: 'Compare', hash: '#/compare/', accelerator: 'CmdOrCtrl+3' },
  { label: 'Export and Import', hash: '#/export/', accelerator: 'CmdOrCtrl+4' },
  { label: 'Sweeps', hash: '#/sweeps', accelerator: 'CmdOrCtrl+5' },
];

export function installMenu(currentWindow: () => BrowserWindow | undefined): void {
  const go = (hash: string) => {
    // The hash is one of the constants above, never text from elsewhere.
    void currentWindow()?.webContents.executeJavaScript(`location.hash = ${JSON.stringify(hash)}`);
  };
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'Go',
      submenu: VIEWS.map((v) => ({ label: v.label, accelerator: v.accelerator, click: () => go(v.hash) })),
    },
    {
      role: 'viewMenu',
      submenu: [
        { role: 'reload' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
