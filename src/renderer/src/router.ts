/** The current route as React state, following the hash; and navigation. */
import { useEffect, useState } from 'react';
import { href, parseRoute, type Route } from './routes.js';

export { href, parseRoute, type Route } from './routes.js';

/** Goes to `route`; with `replace`, the current entry is replaced (Back skips it). */
export function navigate(route: Route, replace = false): void {
  if (replace) location.replace(href(route));
  else location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
