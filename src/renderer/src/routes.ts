/**
 * Views are addressed by the URL's hash, so the back button, reloads and links work in
 * both the desktop window and a browser: #/editor, #/runs, #/run/7, #/queued/2 (a run
 * waiting in the queue, by its queue id), #/compare/3,4, #/export/3,4, #/sweeps,
 * #/sweep/0123456789ab.
 */
export type Route =
  | { view: 'editor' }
  | { view: 'runs' }
  | { view: 'run'; id: number }
  | { view: 'queued'; queueId: number }
  | { view: 'compare'; ids: number[] }
  | { view: 'export'; ids: number[] }
  | { view: 'sweeps' }
  | { view: 'sweep'; id: string };

const ids = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);

export function parseRoute(hash: string): Route {
  const [, view, arg] = hash.replace(/^#/, '').split('/');
  if (view === 'run' && ids(arg).length === 1) return { view: 'run', id: ids(arg)[0]! };
  if (view === 'queued' && ids(arg).length === 1) return { view: 'queued', queueId: ids(arg)[0]! };
  if (view === 'compare') return { view: 'compare', ids: ids(arg) };
  if (view === 'export') return { view: 'export', ids: ids(arg) };
  if (view === 'runs') return { view: 'runs' };
  if (view === 'sweeps') return { view: 'sweeps' };
  if (view === 'sweep' && /^[0-9a-f]{12}$/.test(arg ?? '')) return { view: 'sweep', id: arg! };
  return { view: 'editor' };
}

export function href(route: Route): string {
  switch (route.view) {
    case 'run':
      return `#/run/${route.id}`;
    case 'queued':
      return `#/queued/${route.queueId}`;
    case 'compare':
    case 'export':
      return `#/${route.view}/${route.ids.join(',')}`;
    case 'sweep':
      return `#/sweep/${route.id}`;
    default:
      return `#/${route.view}`;
  }
}
