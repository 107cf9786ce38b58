/*
 * runs.json: one row per training run kept in --out, and the course's table
 * printed from it: Params | Loss | Val_Loss | ACC | Val_ACC | epochs | minutes | device.
 */

/** One run's row. */
export interface RunRow {
  /** Identifies the run across --resume. */
  id: string;
  /** When it started (ISO 8601). */
  started: string;
  data: string;
  preset: string;
  inputSize: number;
  params: number;
  loss: number | null;
  val_loss: number | null;
  accuracy: number | null;
  val_accuracy: number | null;
  epochs: number;
  minutes: number;
  device: string;
}

const HEADER = ['Params', 'Loss', 'Val_Loss', 'ACC', 'Val_ACC', 'epochs', 'minutes', 'device'];

/** The rows with `row` in place of the row with its id, or appended. */
export function withRun(rows: readonly RunRow[], row: RunRow): RunRow[] {
  const at = rows.findIndex((r) => r.id === row.id);
  return at < 0 ? [...rows, row] : rows.map((r, i) => (i === at ? row : r));
}

/** The table as Markdown, columns aligned. */
export function runsTable(rows: readonly RunRow[]): string {
  const metric = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
  const cells = rows.map((r) => [
    r.params.toLocaleString('en-US'),
    metric(r.loss),
    metric(r.val_loss),
    metric(r.accuracy),
    metric(r.val_accuracy),
    String(r.epochs),
    r.minutes.toFixed(1),
    r.device,
  ]);
  const widths = HEADER.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => (c === 7 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  return [line(HEADER), `|${widths.map((w, c) => (c === 7 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.map(line)].join('\n');
}
