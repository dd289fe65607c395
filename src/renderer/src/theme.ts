import { useEffect, useState } from 'react';

const query = () => matchMedia('(prefers-color-scheme: dark)');

/** True while the system prefers dark; follows changes. */
export function useDarkMode(): boolean {
  const [dark, setDark] = useState(() => query().matches);
  useEffect(() => {
    const q = query();
    const onChange = () => setDark(q.matches);
    q.addEventListener('change', onChange);
    return () => q.removeEventListener('change', onChange);
  }, []);
  return dark;
}
