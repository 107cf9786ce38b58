import { parseArgs } from 'node:util';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  countParameters,
  createXception,
  layerTable,
  listPresets,
  XceptionError,
  type XceptionOptions,
} from '../src/index.js';

/** Where the CLI writes. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `Usage: xception-ts summary [--preset ${listPresets().join('|')}] [--classes N] [--input H,W,C] [--no-top] [--output-stride 8|16|32]

Commands:
  summary    Build the model and print its layer table and parameter counts.

Options:
  --preset   Variant to build (default: keras).
  --classes  Classifier units with the top (default: 1000).
  --input    Input shape, e.g. 299,299,3 (default: the preset's).
  --no-top   Leave out the pooling and classifier.
  --output-stride
             8 or 16 to dilate the last units instead of striding (default: 32).
  --help     Show this text.`;

/**
 * Runs the CLI on its arguments and returns the exit code: 0 on success,
 * 1 when the model cannot be built, 2 for bad usage.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        preset: { type: 'string' },
        classes: { type: 'string' },
        input: { type: 'string' },
        'no-top': { type: 'boolean', default: false },
        'output-stride': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`xception-ts: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'summary') {
    io.err(`xception-ts: expected the command 'summary'; got ${positionals.length ? positionals.join(' ') : 'none'}.\n\n${USAGE}`);
    return 2;
  }

  const options: XceptionOptions = { includeTop: !values['no-top'] };
  if (values.preset !== undefined) options.preset = values.preset as XceptionOptions['preset'];
  if (values.classes !== undefined) options.numClasses = parseNumber(values.classes);
  if (values['output-stride'] !== undefined) {
    options.outputStride = parseNumber(values['output-stride']) as XceptionOptions['outputStride'];
  }
  if (values.input !== undefined) {
    options.inputShape = values.input.split(',').map(parseNumber) as XceptionOptions['inputShape'];
  }

  try {
    await useCpuBackend();
    const model = createXception(options);
    printSummary(model, io);
    model.dispose();
    return 0;
  } catch (error) {
    if (error instanceof XceptionError) {
      io.err(`xception-ts: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function parseNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

async function useCpuBackend(): Promise<void> {
  let tf: typeof import('@tensorflow/tfjs-core');
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
  } catch {
    throw new XceptionError(
      "the CLI needs TensorFlow.js' 'cpu' backend: npm install @tensorflow/tfjs (or @tensorflow/tfjs-backend-cpu).",
    );
  }
  // PROD silences tfjs' "install the node backend" banner in Node; the CLI's work is tiny.
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
}

function printSummary(model: LayersModel, io: CliIo): void {
  const rows = layerTable(model);
  const header = ['#', 'layer', 'class', 'output shape', 'params', 'weights'];
  const cells = rows.map((row) => [
    String(row.index + 1),
    row.name,
    row.className,
    `[${row.outputShape.map((d) => d ?? 'N').join(',')}]`,
    row.params.toLocaleString('en-US'),
    row.weights.join(' '),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  io.out(`Model: ${model.name}`);
  io.out(line(header));
  io.out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) io.out(line(r));
  const counts = countParameters(model);
  io.out('');
  io.out(`Layers: ${rows.length}`);
  io.out(`Total params: ${counts.total.toLocaleString('en-US')}`);
  io.out(`Trainable params: ${counts.trainable.toLocaleString('en-US')}`);
  io.out(`Non-trainable params: ${counts.nonTrainable.toLocaleString('en-US')}`);
}
