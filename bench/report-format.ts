/** Formatting shared by the validation report's sections (Markdown). */

/** "+1.2 %": the model's relative error against the reference. */
export function err(model: number, reference: number): string {
  const e = (model / reference - 1) * 100;
  return `${e >= 0 ? '+' : ''}${e.toFixed(1)} %`;
}

/** A Markdown table. */
export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
