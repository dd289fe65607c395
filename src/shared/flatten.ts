/**
 * Experiments as flat parameter lists, for comparing many runs: every leaf of the
 * document under its dotted path ("hardware.link.lanes", "workload.ops[2].op"), and
 * which of those differ between runs. The UI's compare table and the wide CSV export
 * use the same two functions, so they agree on what "differs" means.
 */
export type Leaf = string | number | boolean | null;

export function flattenDocument(doc: unknown, prefix = '', out: Record<string, Leaf> = {}): Record<string, Leaf> {
  if (Array.isArray(doc)) {
    if (doc.length === 0) out[prefix] = '[]';
    doc.forEach((v, i) => flattenDocument(v, `${prefix}[${i}]`, out));
  } else if (doc !== null && typeof doc === 'object') {
    const entries = Object.entries(doc);
    if (entries.length === 0 && prefix) out[prefix] = '{}';
    for (const [k, v] of entries) flattenDocument(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = doc === undefined ? null : (doc as Leaf);
  }
  return out;
}

/**
 * The paths whose value is not the same in every document (a path missing from some
 * counts as differing), in first-seen order; `name` and `description` are left out, as
 * they label runs rather than parametrise them.
 */
export function differingPaths(flat: readonly Record<string, Leaf>[], ignore = ['name', 'description']): string[] {
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const doc of flat) {
    for (const p of Object.keys(doc)) {
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
  }
  return paths.filter((p) => {
    if (ignore.includes(p)) return false;
    const first = JSON.stringify(flat[0]?.[p]);
    return flat.some((doc) => JSON.stringify(doc[p]) !== first);
  });
}
