/**
 * From the text of an experiment with a `sweep` section to the list of its points, each
 * an ordinary prepared experiment with its identity. Every problem with any point is
 * found here, before a database is opened or a run starts, and named by axis and point.
 */
import type { Experiment } from '../../../sim/config/experiment.js';
import {
  checkSweepPaths,
  describePoint,
  pointDocument,
  sweepPoints,
  type Sweep,
  type SweepPoint,
} from '../../../sim/config/sweep.js';
import { validateExperiment, type ConfigIssue, type PresetMap } from '../../../sim/config/validate.js';
import { loadPresetMap } from '../presets.js';
import { describeJsonSyntaxError, parseJsonText } from '../runner/json-text.js';
import { prepareExperimentValue, type PreparedExperiment } from '../runner/prepare.js';
import { canonicalJson, experimentHash, sha256 } from '../store/canonical.js';

/** Point problems listed in full before the rest are only counted. */
const MAX_POINT_ISSUES = 20;

export interface PlannedPoint extends SweepPoint {
  /** Coordinates for people: `hardware.link.lanes=8 repetition 1`. */
  label: string;
  seed: number;
  /** The point's identity: sha256 of its resolved experiment, seed included (the store's experiment hash). */
  hash: string;
  prepared: PreparedExperiment;
}

export interface SweepPlan {
  /** Short id of the sweep: a hash of the whole validated document, so a rerun finds its points. */
  id: string;
  name: string;
  sweep: Sweep;
  base: Experiment;
  points: PlannedPoint[];
}

export interface PlanOptions {
  /** The experiment file's folder (relative trace paths); default the cwd. */
  baseDir?: string;
  presets?: PresetMap;
}

export type PlanResult = ({ ok: true } & SweepPlan) | { ok: false; issues: ConfigIssue[] };

export function planSweep(text: string, options: PlanOptions = {}): PlanResult {
  const parsed = parseJsonText(text);
  if (!parsed.ok) return { ok: false, issues: [{ path: '', message: describeJsonSyntaxError(parsed.error) }] };
  const presets = options.presets ?? loadPresetMap();
  const v = validateExperiment(parsed.value, presets);
  if (!v.ok) return { ok: false, issues: v.issues };
  const base = v.experiment;
  const sweep = base.sweep;
  if (!sweep) {
    return {
      ok: false,
      issues: [
        {
          path: 'sweep',
          message:
            'missing; a sweep needs a "sweep" section with "axes", e.g. {"axes": [{"path": "hardware.link.lanes", "values": [4, 8, 16]}]} (run a single experiment with `hetmem run`)',
        },
      ],
    };
  }
  const pathIssues = checkSweepPaths(sweep, base);
  if (pathIssues.length) return { ok: false, issues: pathIssues };
  const expanded = sweepPoints(sweep);
  if (!expanded.ok) return expanded;

  const doc = parsed.value as Record<string, unknown>;
  const points: PlannedPoint[] = [];
  const issues: ConfigIssue[] = [];
  let unlisted = 0;
  for (const point of expanded.points) {
    const label = describePoint(sweep, point);
    // Through JSON, as its stored text will read back (-0 becomes 0, ...), but with the
    // native parser: the positions jsonc-parser finds are of no use for a generated text.
    const document: unknown = JSON.parse(JSON.stringify(pointDocument(doc, sweep, point, base.seed)));
    const prepared = prepareExperimentValue(document, { baseDir: options.baseDir, presets });
    if (!prepared.ok) {
      for (const issue of prepared.issues) {
        if (issues.length < MAX_POINT_ISSUES) issues.push(pointIssue(sweep, point, label, issue));
        else unlisted++;
      }
      continue;
    }
    points.push({ ...point, label, seed: prepared.experiment.seed, hash: experimentHash(prepared.json), prepared });
  }
  if (unlisted) issues.push({ path: 'sweep', message: `and ${unlisted} more problems at other points` });
  if (issues.length) return { ok: false, issues };
  const id = sha256(canonicalJson(base)).slice(0, 12);
  return { ok: true, id, name: base.name, sweep, base, points };
}

/**
 * `sweep.axes[0]: at point 3 (hardware.link.lanes=3): hardware.link.lanes: 3 is not ...`:
 * the axis whose path the problem lies under, or the whole sweep when it lies elsewhere
 * (a combination of values that is invalid together).
 */
function pointIssue(sweep: Sweep, point: SweepPoint, label: string, issue: ConfigIssue): ConfigIssue {
  const axis = sweep.axes.findIndex((a) => {
    const p = a.path;
    return issue.path === p || issue.path.startsWith(`${p}.`) || issue.path.startsWith(`${p}[`);
  });
  const where = issue.path ? `${issue.path}: ` : '';
  return {
    path: axis >= 0 ? `sweep.axes[${axis}]` : 'sweep',
    message: `at point ${point.index} (${label}): ${where}${issue.message}`,
  };
}

/** Shard `index` of `count` (from 0): every count-th point, so the shards together are exactly the sweep. */
export function shardPoints<T extends { index: number }>(points: readonly T[], index: number, count: number): T[] {
  return points.filter((p) => p.index % count === index);
}
