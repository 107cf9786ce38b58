import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  countParameters,
  createXception,
  enableWasmTraining,
  layerTable,
  loadKerasModel,
  loadKerasWeights,
  XceptionConfigError,
  XceptionError,
} from '../src/index.js';

import { exportOnnx, ONNX_OPSET } from '../src/onnx/index.js';
import { classify } from './classify.js';
import { describeSystemError, isSystemError, UsageError, writingTo } from './cli-errors.js';
import { COMMANDS, commandHelp, generalHelp, MODEL_FLAGS } from './commands.js';
import { writeLayersModel } from './convert.js';
import { exportKerasCommand, kerasOutputKind, requireH5wasm } from './export-keras.js';
import { inspectCommand } from './inspect.js';
import { convertKerasModelFile, isKerasModelFile } from './keras-model-input.js';
import { inFlagTerms, integerFlag, modelOptions, oneOfFlag, type CliFlags } from './flags.js';
import { refuseOverwrite, requireWritable } from './output-guard.js';
import type { Quantization } from './quantize.js';
import { trainCommand } from './train.js';
import type { ProgressOutput } from './train-progress.js';

/** Where the CLI writes. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Raw progress text (train's bar); default: lines through `err`. */
  progress?: ProgressOutput;
}

const FLAG_TYPES = {
  preset: { type: 'string' },
  classes: { type: 'string' },
  input: { type: 'string' },
  'no-top': { type: 'boolean' },
  'output-stride': { type: 'string' },
  'allow-small-input': { type: 'boolean' },
  quantize: { type: 'string' },
  batch: { type: 'string' },
  weights: { type: 'string' },
  top: { type: 'string' },
  cam: { type: 'string' },
  engine: { type: 'string' },
  json: { type: 'boolean' },
  model: { type: 'string' },
  'input-size': { type: 'string' },
  channels: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  schedule: { type: 'string' },
  'freeze-backbone': { type: 'boolean' },
  'fine-tune-epochs': { type: 'string' },
  device: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  'validation-split': { type: 'string' },
  seed: { type: 'string' },
  'no-augment': { type: 'boolean' },
  'skip-bad-files': { type: 'boolean' },
  'max-files': { type: 'string' },
  'max-images': { type: 'string' },
  'bn-momentum': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs the CLI on its arguments and returns the exit code: 0 on success,
 * 1 for a problem with a file, the weights or the runtime (one line, no
 * stack trace), 2 for bad usage (one line and a hint).
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let command: string | undefined;
  try {
    const { values, positionals } = parse(argv);
    command = positionals[0];
    if (values.version) {
      io.out(version());
      return 0;
    }
    if (command === 'help') {
      const topic = positionals[1];
      if (topic === undefined) io.out(generalHelp());
      else if (COMMANDS[topic] !== undefined) io.out(commandHelp(topic));
      else throw new UsageError(`help: unknown command ${JSON.stringify(topic)}; the commands are ${Object.keys(COMMANDS).join(', ')}.`);
      return 0;
    }
    if (command === undefined) {
      if (values.help) {
        io.out(generalHelp());
        return 0;
      }
      throw new UsageError(`expected a command: ${Object.keys(COMMANDS).join(', ')}, help; got none.`);
    }
    const spec = COMMANDS[command];
    if (spec === undefined) {
      throw new UsageError(`unknown command ${JSON.stringify(command)}; the commands are ${Object.keys(COMMANDS).join(', ')}, help.`);
    }
    if (values.help) {
      io.out(commandHelp(command));
      return 0;
    }
    const args = positionals.slice(1);
    if (args.length < spec.min || args.length > spec.max) {
      throw new UsageError(
        `${command} takes ${spec.args || 'no arguments'}; got ${args.length ? args.map((a) => JSON.stringify(a)).join(' ') : 'none'}.`,
        command,
      );
    }
    const notApplying = Object.keys(values).filter((flag) => values[flag] !== undefined && !spec.flags.includes(flag));
    if (notApplying.length > 0) {
      throw new UsageError(`${command} does not take ${notApplying.map((f) => `--${f}`).join(', ')}.`, command);
    }
    if (command === 'classify') await useFastestBackend();
    else await useCpuBackend();
    if (command === 'train') return await trainCommand(args, values, io);
    if (command === 'classify') await classify(args, values, io);
    else await runModelCommand(command, args, values, io);
    return 0;
  } catch (error) {
    return report(error, command ?? argv.find((a) => COMMANDS[a] !== undefined), io);
  }
}

function parse(argv: string[]): { values: CliFlags; positionals: string[] } {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: FLAG_TYPES });
  } catch (error) {
    // Node: "Unknown option '--colour'. To specify a positional argument starting with a '-', …"
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, '.'));
  }
}

/** Prints one line (and a hint for usage errors) and returns the exit code. */
function report(error: unknown, command: string | undefined, io: CliIo): number {
  if (error instanceof UsageError || error instanceof XceptionConfigError) {
    const message = error instanceof XceptionConfigError ? inFlagTerms(error.message) : error.message;
    const topic = (error instanceof UsageError ? error.command : undefined) ?? command;
    io.err(`xception-ts: ${message}`);
    io.err(topic !== undefined && COMMANDS[topic] ? `Try 'xception-ts help ${topic}'.` : "Try 'xception-ts --help'.");
    return 2;
  }
  if (error instanceof XceptionError) {
    io.err(`xception-ts: ${error.message}`);
    return 1;
  }
  if (isSystemError(error)) {
    io.err(`xception-ts: ${describeSystemError(error)}`);
    return 1;
  }
  if (process.env['XCEPTION_TS_DEBUG']) throw error;
  io.err(`xception-ts: ${(error as Error)?.message ?? String(error)} (set XCEPTION_TS_DEBUG=1 for the stack trace)`);
  return 1;
}

async function runModelCommand(command: string, args: string[], values: CliFlags, io: CliIo): Promise<void> {
  const quantization =
    values.quantize === undefined ? undefined : oneOfFlag<Quantization>('quantize', values.quantize as string, ['float16', 'uint8']);
  const batch = values.batch === undefined ? 'dynamic' : integerFlag('batch', values.batch as string, 1);
  const options = modelOptions(values);
  if (command === 'inspect') {
    await inspectCommand(args[0]!, io);
    return;
  }
  if (command === 'export-keras') {
    kerasOutputKind(args[1]!);
    await requireH5wasm();
  }
  if (command !== 'summary') {
    const kind = command === 'convert' ? 'folder' : 'file';
    refuseOverwrite(args[0]!, args[1]!, kind);
    requireWritable(args[1]!, kind);
  }
  const source = args[0];
  // A whole Keras model file (.keras, or .h5 from model.save) brings its own model: no preset.
  const fromModelFile = command !== 'summary' && source !== undefined && source !== 'random' && (await isKerasModelFile(source));
  if (fromModelFile) refuseModelFlags(command, source, values);
  if (fromModelFile && command === 'convert') {
    await writingTo(args[1]!, () => convertKerasModelFile(source, args[1]!, quantization, io));
    return;
  }
  const model = fromModelFile ? await loadKerasModel(source) : createXception(options);
  try {
    if (command === 'summary') printSummary(model, io);
    else if (command === 'convert') await convert(model, args[0]!, args[1]!, quantization, io);
    else if (command === 'export-keras') await exportKerasCommand(model, args[0]!, args[1]!, !fromModelFile && args[0] !== 'random', io);
    else await writeOnnx(model, fromModelFile ? null : args[0]!, args[1]!, batch, io);
  } finally {
    model.dispose();
  }
}

async function convert(model: LayersModel, weightsPath: string, outDir: string, quantization: Quantization | undefined, io: CliIo): Promise<void> {
  const started = performance.now();
  const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  io.out(`Built '${model.name}' (${countParameters(model).total.toLocaleString('en-US')} params); reading ${weightsPath} …`);
  const { layout, layersLoaded } = await loadKerasWeights(model, weightsPath);
  io.out(`Loaded ${layersLoaded} layers (${layout} layout) in ${seconds()}; writing ${outDir} …`);
  const { files, bytes } = await writingTo(outDir, () => writeLayersModel(model, outDir, quantization));
  io.out(`Wrote ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB (${quantization ?? 'float32'} weights) in ${seconds()}.`);
  io.out(`Load it with tf.loadLayersModel('<url of ${outDir}>/model.json').`);
}

/** A whole Keras model file brings its own model: flags that describe one would be silently ignored, so they are refused. */
function refuseModelFlags(command: string, source: string, values: CliFlags): void {
  const given = MODEL_FLAGS.filter((flag) => values[flag] !== undefined);
  if (given.length > 0) {
    throw new UsageError(
      `${source} is a whole Keras model file: the model comes from it, so ${given.map((f) => `--${f}`).join(', ')} cannot apply; leave ${given.length > 1 ? 'them' : 'it'} out.`,
      command,
    );
  }
}

/** `weightsPath`: Keras weights to load, 'random', or null when the model came whole from a Keras model file. */
async function writeOnnx(model: LayersModel, weightsPath: string | null, outPath: string, batchSize: 'dynamic' | number, io: CliIo): Promise<void> {
  if (weightsPath === null) {
    io.out(`Loaded the Keras model '${model.name}'.`);
  } else if (weightsPath !== 'random') {
    const { layout, layersLoaded } = await loadKerasWeights(model, weightsPath);
    io.out(`Loaded ${layersLoaded} layers (${layout} layout) from ${weightsPath}.`);
  } else {
    io.out(`Exporting '${model.name}' with random (untrained) weights.`);
  }
  const bytes = exportOnnx(model, { batchSize });
  await writingTo(outPath, () => writeFile(outPath, bytes));
  const shape = `[${batchSize === 'dynamic' ? 'batch' : batchSize}, ${model.inputs[0]!.shape.slice(1).join(', ')}]`;
  io.out(`Wrote ${outPath}: ${(bytes.length / 1e6).toFixed(1)} MB, ONNX opset ${ONNX_OPSET}, input 'input' ${shape} (NHWC float32), output 'output'.`);
}

function version(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
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

/**
 * classify computes: it runs on TensorFlow.js' wasm backend when
 * @tensorflow/tfjs-backend-wasm is installed (an optional package; one
 * 299×299 pass takes about a second instead of ~15 s on 'cpu'), else on 'cpu'.
 */
async function useFastestBackend(): Promise<void> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { createRequire } = await import('node:module');
    const { dirname } = await import('node:path');
    wasm.setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    if (await tf.setBackend('wasm')) {
      enableWasmTraining(); // gradients of inner layers for --cam
      return;
    }
  } catch {
    // not installed: the cpu backend below
  }
  await useCpuBackend();
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
