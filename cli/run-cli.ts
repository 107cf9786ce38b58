import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  countParameters,
  createXception,
  layerTable,
  listPresets,
  loadKerasModel,
  loadKerasWeights,
  XceptionError,
  type XceptionOptions,
} from '../src/index.js';

import { exportOnnx, ONNX_OPSET } from '../src/onnx/index.js';
import { writeLayersModel } from './convert.js';
import { exportKerasCommand } from './export-keras.js';
import { inspectCommand } from './inspect.js';
import { convertKerasModelFile, isKerasModelFile } from './keras-model-input.js';
import type { Quantization } from './quantize.js';

/** Where the CLI writes. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `Usage: xception-ts summary [--preset ${listPresets().join('|')}] [--classes N] [--input H,W,C] [--no-top] [--output-stride 8|16|32]
       xception-ts convert <weights.h5|model.keras|model.h5> <outDir> [--no-top] [--quantize float16|uint8] [--input H,W,C]
       xception-ts export-onnx <weights.h5|random> <model.onnx> [--preset P] [--no-top] [--input H,W,C] [--batch N]
       xception-ts inspect <file.keras|file.h5>
       xception-ts export-keras <weights.h5|model.keras|model.h5|random> <out.keras|out.weights.h5|out.h5> [--preset P] [--classes N] [--input H,W,C]

Commands:
  summary    Build the model and print its layer table and parameter counts.
  convert    Load Keras HDF5 weights (e.g. the official ImageNet files) into the matching model
             and write a TensorFlow.js layers model (model.json + shards) that tf.loadLayersModel
             loads without xception-ts. A full Keras model file (.keras archive, or .h5 from
             model.save, Keras 1 to 3) needs no preset: the model comes from the file.
  export-onnx
             Load Keras HDF5 weights (or 'random' for untrained weights) and write an ONNX model
             (opset 13, NHWC float32 input 'input', output 'output') for ONNX Runtime.
  inspect    Print a Keras file's format, Keras version, layer table and parameter count.
  export-keras
             Write a model as a Keras file, chosen by the output name: .keras (Keras 3 archive),
             .weights.h5 (Keras 3 weights) or .h5 (Keras 2 save_weights layout). The source is
             Keras weights for the model the options describe, 'random', or a whole model file.

Options:
  --preset   Variant to build (default: keras).
  --classes  Classifier units with the top (default: 1000).
  --input    Input shape, e.g. 299,299,3 (default: the preset's).
  --no-top   Leave out the pooling and classifier.
  --output-stride
             8 or 16 to dilate the last units instead of striding (default: 32).
  --quantize float16 or uint8: store weights at 2 or 1 byte each (convert).
  --batch    A fixed batch size for export-onnx (default: dynamic).
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
        quantize: { type: 'string' },
        batch: { type: 'string' },
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
  const command = positionals[0];
  const arity = command === 'summary' ? 1 : command === 'inspect' ? 2 : command === 'convert' || command === 'export-onnx' || command === 'export-keras' ? 3 : -1;
  if (positionals.length !== arity) {
    io.err(
      arity === -1
        ? `xception-ts: expected the command 'summary', 'convert', 'export-onnx', 'inspect' or 'export-keras'; got ${positionals.length ? positionals.join(' ') : 'none'}.\n\n${USAGE}`
        : `xception-ts: ${command} takes ${arity - 1 === 0 ? 'no arguments' : command === 'convert' ? '<weights.h5> <outDir>' : command === 'inspect' ? '<file>' : command === 'export-keras' ? '<source> <out.keras|out.weights.h5|out.h5>' : '<weights.h5|random> <model.onnx>'}; got ${positionals.slice(1).join(' ') || 'none'}.\n\n${USAGE}`,
    );
    return 2;
  }
  const quantization = values.quantize;
  if (quantization !== undefined && quantization !== 'float16' && quantization !== 'uint8') {
    io.err(`xception-ts: --quantize must be float16 or uint8; got ${JSON.stringify(quantization)}.`);
    return 2;
  }

  const batch = values.batch === undefined ? 'dynamic' : parseNumber(values.batch);
  if (batch !== 'dynamic' && !(Number.isInteger(batch) && batch > 0)) {
    io.err(`xception-ts: --batch must be a positive integer; got ${JSON.stringify(values.batch)}.`);
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
    if (command === 'inspect') {
      await inspectCommand(positionals[1]!, io);
      return 0;
    }
    const source = positionals[1]!;
    const fromModelFile = (command === 'convert' || command === 'export-keras') && source !== 'random' && (await isKerasModelFile(source));
    if (fromModelFile && command === 'convert') {
      await convertKerasModelFile(source, positionals[2]!, quantization, io);
      return 0;
    }
    const model = fromModelFile ? await loadKerasModel(source) : createXception(options);
    try {
      if (command === 'summary') printSummary(model, io);
      else if (command === 'convert') await convert(model, positionals[1]!, positionals[2]!, quantization, io);
      else if (command === 'export-keras') await exportKerasCommand(model, source, positionals[2]!, !fromModelFile && source !== 'random', io);
      else await writeOnnx(model, positionals[1]!, positionals[2]!, batch, io);
    } finally {
      model.dispose();
    }
    return 0;
  } catch (error) {
    if (error instanceof XceptionError) {
      io.err(`xception-ts: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function convert(model: LayersModel, weightsPath: string, outDir: string, quantization: Quantization | undefined, io: CliIo): Promise<void> {
  const started = performance.now();
  const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  io.out(`Built '${model.name}' (${countParameters(model).total.toLocaleString('en-US')} params); reading ${weightsPath} …`);
  const { layout, layersLoaded } = await loadKerasWeights(model, weightsPath);
  io.out(`Loaded ${layersLoaded} layers (${layout} layout) in ${seconds()}; writing ${outDir} …`);
  const { files, bytes } = await writeLayersModel(model, outDir, quantization);
  io.out(`Wrote ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB (${quantization ?? 'float32'} weights) in ${seconds()}.`);
  io.out(`Load it with tf.loadLayersModel('<url of ${outDir}>/model.json').`);
}

async function writeOnnx(model: LayersModel, weightsPath: string, outPath: string, batchSize: 'dynamic' | number, io: CliIo): Promise<void> {
  if (weightsPath !== 'random') {
    const { layout, layersLoaded } = await loadKerasWeights(model, weightsPath);
    io.out(`Loaded ${layersLoaded} layers (${layout} layout) from ${weightsPath}.`);
  } else {
    io.out(`Exporting '${model.name}' with random (untrained) weights.`);
  }
  const bytes = exportOnnx(model, { batchSize });
  await writeFile(outPath, bytes);
  const shape = `[${batchSize === 'dynamic' ? 'batch' : batchSize}, ${model.inputs[0]!.shape.slice(1).join(', ')}]`;
  io.out(`Wrote ${outPath}: ${(bytes.length / 1e6).toFixed(1)} MB, ONNX opset ${ONNX_OPSET}, input 'input' ${shape} (NHWC float32), output 'output'.`);
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
