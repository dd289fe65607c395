/** Compare: a Monaco diff of two runs' experiments, unchanged regions folded. */
import { useEffect, useRef, useState } from 'react';
import type { ComparedRun } from '../../../../shared/api.js';
import { monaco, monacoTheme } from '../../monaco/setup.js';
import { useDarkMode } from '../../theme.js';
import { runLabel as label } from './label.js';

export function ExperimentDiff({ runs }: { runs: ComparedRun[] }) {
  const host = useRef<HTMLDivElement>(null);
  const [left, setLeft] = useState(0);
  const [right, setRight] = useState(1);
  const dark = useDarkMode();
  useEffect(() => {
    const text = (r: ComparedRun) => JSON.stringify(r.experiment, null, 2);
    const original = monaco.editor.createModel(text(runs[left]!), 'json');
    const modified = monaco.editor.createModel(text(runs[right]!), 'json');
    const diff = monaco.editor.createDiffEditor(host.current!, {
      readOnly: true,
      automaticLayout: true,
      renderSideBySide: true,
      // Experiments are long and differ in a few fields: show those, fold the rest.
      hideUnchangedRegions: { enabled: true, contextLineCount: 2, minimumLineCount: 3, revealLineCount: 10 },
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
    });
    diff.setModel({ original, modified });
    return () => {
      diff.dispose();
      original.dispose();
      modified.dispose();
    };
  }, [runs, left, right]);
  useEffect(() => monaco.editor.setTheme(monacoTheme()), [dark]);
  const picker = (value: number, set: (n: number) => void, name: string) => (
    <select aria-label={name} value={value} onChange={(e) => set(Number(e.target.value))}>
      {runs.map((r, i) => (
        <option key={r.id} value={i}>
          {label(r)} {r.name}
        </option>
      ))}
    </select>
  );
  return (
    <>
      <div className="toolbar">
        {picker(left, setLeft, 'Left experiment')} ⇄ {picker(right, setRight, 'Right experiment')}
      </div>
      <div ref={host} className="diff-host" data-testid="experiment-diff" />
    </>
  );
}
