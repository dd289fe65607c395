/** A run's tags: each with a remove button, and a field to add one (Enter). */
import { useState } from 'react';
import type { Services } from '../api.js';
import { messageOf } from '../load.js';

export function TagEditor({
  api,
  runId,
  tags,
  onChange,
}: {
  api: Services;
  runId: number;
  tags: string[];
  onChange: () => void;
}) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const change = async (add: string[], remove: string[]) => {
    setError(null);
    try {
      await api.tagRun(runId, { add, remove });
      onChange();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <div className="tags" aria-label="Tags">
      {tags.map((t) => (
        <span className="tag" key={t}>
          {t}
          <button type="button" aria-label={`Remove tag ${t}`} onClick={() => void change([], [t])}>
            ×
          </button>
        </span>
      ))}
      <input
        aria-label="Add a tag"
        placeholder="add tag…"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && draft.trim()) {
            void change([draft.trim()], []);
            setDraft('');
          }
        }}
      />
      {error && <span className="error-text">{error}</span>}
    </div>
  );
}
