import { inspectKerasFile } from '../src/index.js';
import type { CliIo } from './run-cli.js';

const FORMATS = {
  keras: 'Keras 3 archive (.keras)',
  'h5-model': 'full-model HDF5 (model.save)',
  'h5-weights': 'weights-only HDF5 (save_weights)',
} as const;

/** `xception-ts inspect <file>`: the format, Keras version, layer table and parameter count of a Keras file. */
export async function inspectCommand(path: string, io: CliIo): Promise<void> {
  const summary = await inspectKerasFile(path);
  io.out(`File: ${path}`);
  io.out(`Format: ${FORMATS[summary.format]}`);
  const writer = summary.savedBy === null ? '' : ` (the format version; written by ${summary.savedBy}, not by Keras)`;
  io.out(`Keras version: ${summary.kerasVersion ?? 'not recorded'}${writer}`);
  if (summary.modelClass !== null) io.out(`Model: ${summary.modelClass}`);
  const header = ['#', 'layer', 'class', 'params'];
  const cells = summary.layers.map((layer, i) => [
    String(i + 1),
    layer.path,
    layer.className ?? '-',
    layer.parameters === null ? '?' : layer.parameters.toLocaleString('en-US'),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  io.out('');
  io.out(line(header));
  io.out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) io.out(line(r));
  io.out('');
  io.out(`Layers: ${summary.layers.length}`);
  io.out(`Total params: ${summary.parameters === null ? 'unknown' : summary.parameters.toLocaleString('en-US')}`);
  if (summary.buildError !== null) io.out(`Cannot be loaded: ${summary.buildError}`);
}
