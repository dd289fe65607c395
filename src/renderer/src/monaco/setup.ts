/**
 * Monaco, bundled with its workers (no CDN: the app works offline), set up for experiment
 * documents: JSON with comments, the JSON Schema generated from the zod schema for
 * completion and hover docs. Problems are not Monaco's own schema messages but the
 * services' (`setExperimentMarkers`), so the editor says exactly what `hetmem validate` says.
 */
import * as monaco from 'monaco-editor/editor';
// The editor's contributions (completion, hover, find, folding, diff...); 'monaco-editor/editor' alone has none.
import 'monaco-editor/features/register.all';
import { jsonDefaults } from 'monaco-editor/languages/features/json/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker?worker';
import { experimentJsonSchema } from '../../../sim/config/json-schema.js';
import type { ExperimentIssue } from '../../../shared/api.js';

export { monaco };

self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string) {
    return label === 'json' ? new JsonWorker() : new EditorWorker();
  },
};

const SCHEMA_URI = 'hetmem://schema/experiment.json';
/** Every experiment model gets a URI under this folder, so the schema applies to all of them. */
export const EXPERIMENT_MODEL_PREFIX = 'hetmem://experiments/';

jsonDefaults.setDiagnosticsOptions({
  // Monaco's own diagnostics are off: the services' messages are the ones users know.
  validate: false,
  allowComments: true,
  enableSchemaRequest: false,
  schemas: [{ uri: SCHEMA_URI, fileMatch: [`${EXPERIMENT_MODEL_PREFIX}*`], schema: experimentJsonSchema() }],
});

export const MARKER_OWNER = 'hetmem';

export function setExperimentMarkers(model: monaco.editor.ITextModel, issues: readonly ExperimentIssue[]): void {
  monaco.editor.setModelMarkers(
    model,
    MARKER_OWNER,
    issues.map((issue) => {
      const start = model.getPositionAt(issue.offset);
      const end = model.getPositionAt(issue.offset + Math.max(1, issue.length));
      return {
        severity: monaco.MarkerSeverity.Error,
        message: issue.path ? `${issue.path}: ${issue.message}` : issue.message,
        startLineNumber: start.lineNumber,
        startColumn: start.column,
        endLineNumber: end.lineNumber,
        endColumn: end.column,
        source: 'hetmem validate',
      };
    }),
  );
}

/** Follows the system's light or dark preference. */
export function monacoTheme(): string {
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'vs-dark' : 'vs';
}
