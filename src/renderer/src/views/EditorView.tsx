/**
 * The experiment editor: Monaco with the generated schema (completion, hover docs), the
 * services' validation as squiggles, examples and hardware presets to start from, open
 * and save, and Run (also Ctrl/Cmd+Enter), which is disabled with the reason while the
 * experiment is broken. An experiment with a `sweep` section runs as a sweep (every point
 * on a thread pool) and opens the sweep view.
 */
import { parse } from 'jsonc-parser';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ExperimentIssue, Presets } from '../../../shared/api.js';
import type { Services } from '../api.js';
import { downloadFile, messageOf, useLoad } from '../load.js';
import { EXPERIMENT_MODEL_PREFIX, monaco, monacoTheme, setExperimentMarkers } from '../monaco/setup.js';
import { navigate } from '../router.js';
import { useDarkMode } from '../theme.js';

const DRAFT_KEY = 'hetmem.editor.draft';

/** Whether the document (JSON with comments, maybe broken) has a top-level "sweep" section. */
function hasSweep(text: string): boolean {
  const doc: unknown = parse(text);
  return doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'sweep' in doc;
}
const VALIDATE_DELAY_MS = 250;

/** A document to start from a hardware preset, with the fields a run needs. */
function fromHardwarePreset(name: string): string {
  return `{
  // Started from the hardware preset "${name}"; override any of its fields beside "preset".
  "name": "${name} experiment",
  "seed": 1,
  "hardware": { "preset": "${name}" },
  "strategy": { "impl": "hmm-mirror" },
  "workload": { "impl": "stream", "arrayBytes": "16MiB", "iterations": 2 }
}
`;
}

/** The one editor model, kept across view changes so a draft survives navigation. */
let sharedModel: monaco.editor.ITextModel | null = null;
function experimentModel(initial: () => string): monaco.editor.ITextModel {
  if (!sharedModel || sharedModel.isDisposed()) {
    sharedModel = monaco.editor.createModel(
      initial(),
      'json',
      monaco.Uri.parse(`${EXPERIMENT_MODEL_PREFIX}draft.json`),
    );
    sharedModel.onDidChangeContent(() => localStorage.setItem(DRAFT_KEY, sharedModel!.getValue()));
  }
  return sharedModel;
}

export function EditorView({ api }: { api: Services }) {
  const [presets] = useLoad(() => api.listPresets(), [api]);
  const ready = presets.state === 'ready' ? presets.value : null;
  return (
    <section className="view editor-view">
      {presets.state === 'error' && <p className="notice error">Could not load the presets: {presets.message}</p>}
      {ready ? <Editor api={api} presets={ready} /> : <p className="muted">Loading the editor…</p>}
    </section>
  );
}

function Editor({ api, presets }: { api: Services; presets: Presets }) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const [issues, setIssues] = useState<ExperimentIssue[] | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [sweep, setSweep] = useState(false);
  const [fileName, setFileName] = useState('experiment.json');
  const dark = useDarkMode();
  const model = experimentModel(() => localStorage.getItem(DRAFT_KEY) ?? presets.examples[0]?.text ?? '{}');

  const validate = useCallback(async () => {
    try {
      setSweep(hasSweep(model.getValue()));
      const { issues: found } = await api.validateExperiment(model.getValue());
      setExperimentMarkers(model, found);
      setIssues(found);
    } catch (e) {
      setRunError(`Could not validate: ${messageOf(e)}`);
    }
  }, [api, model]);

  const startingRef = useRef(false);
  const run = useCallback(async () => {
    if (startingRef.current) return;
    startingRef.current = true;
    setRunError(null);
    setStarting(true);
    try {
      const text = model.getValue();
      if (hasSweep(text)) {
        const started = await api.startSweep(text);
        if (started.ok) navigate({ view: 'sweep', id: started.sweepId });
        else {
          setExperimentMarkers(model, started.issues);
          setIssues(started.issues);
        }
        return;
      }
      const started = await api.startRun(text);
      if (started.ok) {
        navigate(
          started.runId === null ? { view: 'queued', queueId: started.queueId } : { view: 'run', id: started.runId },
        );
      } else {
        setExperimentMarkers(model, started.issues);
        setIssues(started.issues);
      }
    } catch (e) {
      setRunError(messageOf(e));
    } finally {
      startingRef.current = false;
      setStarting(false);
    }
  }, [api, model]);
  const runRef = useRef(run);
  runRef.current = run;

  useEffect(() => {
    const editor = monaco.editor.create(host.current!, {
      model,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
      fixedOverflowWidgets: true,
      tabSize: 2,
      wordWrap: 'on',
      ariaLabel: 'Experiment document (JSON with comments)',
    });
    editorRef.current = editor;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sub = model.onDidChangeContent(() => {
      clearTimeout(timer);
      setIssues(null);
      timer = setTimeout(() => void validate(), VALIDATE_DELAY_MS);
    });
    void validate();
    return () => {
      clearTimeout(timer);
      sub.dispose();
      editor.dispose();
    };
  }, [model, validate]);

  useEffect(() => monaco.editor.setTheme(monacoTheme()), [dark]);

  // Ctrl/Cmd+Enter runs from anywhere in this view, the editor included (caught before
  // Monaco sees it, which would insert a line).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
      e.preventDefault();
      e.stopPropagation();
      void runRef.current();
    };
    addEventListener('keydown', onKey, { capture: true });
    return () => removeEventListener('keydown', onKey, { capture: true });
  }, []);

  const load = (text: string, name: string) => {
    editorRef.current?.pushUndoStop();
    editorRef.current?.executeEdits('load', [{ range: model.getFullModelRange(), text }]);
    editorRef.current?.pushUndoStop();
    setFileName(name);
  };

  const broken = issues !== null && issues.length > 0;
  const runTitle = broken
    ? `Cannot run: ${issues.length === 1 ? '1 problem' : `${issues.length} problems`} (see the red squiggles)`
    : sweep
      ? 'Run every point of this sweep not yet in the database (Ctrl/Cmd+Enter)'
      : 'Run this experiment (Ctrl/Cmd+Enter)';

  return (
    <>
      <header className="view-header toolbar">
        <h1>Experiment</h1>
        <label>
          Example{' '}
          <select
            aria-label="Start from an example"
            value=""
            onChange={(e) => {
              const ex = presets.examples.find((x) => x.name === e.target.value);
              if (ex) load(ex.text, `${ex.name}.json`);
            }}
          >
            <option value="">choose…</option>
            {presets.examples.map((ex) => (
              <option key={ex.name} value={ex.name} title={ex.description}>
                {ex.title || ex.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Hardware preset{' '}
          <select
            aria-label="Start from a hardware preset"
            value=""
            onChange={(e) => e.target.value && load(fromHardwarePreset(e.target.value), `${e.target.value}.json`)}
          >
            <option value="">choose…</option>
            {presets.hardware.map((h) => (
              <option key={h.name} value={h.name} title={h.description}>
                {h.name}
              </option>
            ))}
          </select>
        </label>
        <label className="button">
          Open…
          <input
            type="file"
            aria-label="Open an experiment file"
            accept=".json,.jsonc,application/json"
            className="visually-hidden"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (file) load(await file.text(), file.name);
              e.target.value = '';
            }}
          />
        </label>
        <button type="button" onClick={() => downloadFile(fileName, 'application/json', model.getValue())}>
          Save
        </button>
        <span className="spacer" />
        <span className={broken ? 'validity error-text' : 'validity muted'} role="status">
          {issues === null ? 'checking…' : broken ? runTitle.replace('Cannot run: ', '') : 'valid'}
        </span>
        <button
          type="button"
          className="primary"
          disabled={broken || starting}
          title={runTitle}
          onClick={() => void run()}
        >
          {starting ? 'Starting…' : sweep ? 'Run sweep ▶' : 'Run ▶'}
        </button>
      </header>
      {runError && <p className="notice error">{runError}</p>}
      {broken && (
        <ul className="issues" aria-label="Problems">
          {issues.map((i, n) => (
            <li key={n}>
              <button
                type="button"
                className="link"
                onClick={() => {
                  const pos = model.getPositionAt(i.offset);
                  editorRef.current?.setPosition(pos);
                  editorRef.current?.revealPositionInCenter(pos);
                  editorRef.current?.focus();
                }}
              >
                {i.path ? <code>{i.path}</code> : 'syntax'}
              </button>{' '}
              {i.message}
            </li>
          ))}
        </ul>
      )}
      <div ref={host} className="monaco-host" data-testid="experiment-editor" />
    </>
  );
}

/** Opens `text` in the editor (replacing the draft) and shows the editor. */
export function openInEditor(text: string): void {
  localStorage.setItem(DRAFT_KEY, text);
  if (sharedModel && !sharedModel.isDisposed()) sharedModel.setValue(text);
  navigate({ view: 'editor' });
}
