/**
 * Where a problem is in the experiment's text: the validator speaks in JSON paths
 * ("hardware.link.lanes"), an editor underlines ranges. jsonc-parser finds the node a
 * path names (comments allowed, as everywhere experiments are read). A field that is
 * missing is shown on the nearest enclosing field that exists.
 */
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import type { ConfigIssue } from '../../../sim/config/validate.js';
import type { ExperimentIssue } from '../../../shared/api.js';
import { parseJsonText } from '../runner/json-text.js';

/** "workload.ops[3].region" -> ['workload', 'ops', 3, 'region']. */
export function pathSegments(path: string): (string | number)[] {
  return [...path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[2]!));
}

export function locateIssues(text: string, issues: readonly ConfigIssue[]): ExperimentIssue[] {
  const root = parseTree(text, [], { allowTrailingComma: false });
  return issues.map((issue) => ({ ...issue, ...locate(text, root, issue) }));
}

function locate(text: string, root: Node | undefined, issue: ConfigIssue): { offset: number; length: number } {
  if (issue.path === '') {
    // A syntax error: the parser's own position, one character wide.
    const parsed = parseJsonText(text);
    const offset = parsed.ok ? 0 : Math.min(parsed.error.offset, text.length);
    return { offset, length: offset < text.length ? 1 : 0 };
  }
  if (!root) return { offset: 0, length: 0 };
  const segments = pathSegments(issue.path);
  for (let n = segments.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, segments.slice(0, n));
    if (!node) continue;
    const exact = n === segments.length;
    // An unknown field or a missing one is about the property, so underline its name.
    const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    const target = exact && !/^(unknown field|missing)/.test(issue.message) ? node : (key ?? node);
    if (target.type === 'object' || target.type === 'array') return { offset: target.offset, length: 1 };
    return { offset: target.offset, length: target.length };
  }
  return { offset: 0, length: 0 };
}
