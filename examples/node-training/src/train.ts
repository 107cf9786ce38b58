// Train Xception on your own images (or a generated data set) in Node.
//
//   npm run train -- --data ./my-images --preset keras --input-size 150 --epochs 10
//   npm run train -- --synthetic --classes 4 --preset narrow --input-size 48 --epochs 5
//
// See README.md for every option.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { assertWasmTrainingFits, countParameters, listPresets, unfreeze, type XceptionPresetName } from 'xception-ts';
import { selectBackend, type BackendChoice } from './backend.js';
import { loadCheckpoint, saveCheckpoint, type TrainingState } from './checkpoint.js';
import { folderDataSet, pipeline, split, syntheticDataSet, type DataSet } from './data.js';
import { buildModel } from './model.js';
import { historyChart } from './plot.js';
import { progressBar } from './progress.js';

const USAGE = `Usage: npm run train -- (--data <dir> | --synthetic) [options]

  --data <dir>          One sub-folder per class, holding JPEG or PNG images.
  --synthetic           Generate a learnable data set (stripes at one angle per class).
  --classes N           Classes of the generated data set (default 4).
  --samples N           Images in the generated data set (default 400).
  --preset P            ${listPresets().join(', ')}, or narrow (default narrow with --synthetic, else keras).
  --input-size N        Square input size (default 150).
  --batch-size N        (default 16)
  --epochs N            (default 10)
  --lr X                Adam's learning rate (default 0.001).
  --validation X        Fraction of each class held out (default 0.2).
  --bn-momentum X       BatchNormalization momentum (default 0.99, Keras'); 0.9 suits short runs.
  --patience N          Early stopping: epochs without a better validation loss (default 3).
  --weights W           imagenet, or a Keras .h5 file, for transfer learning.
  --freeze-backbone     Train only the new classifier head (with --weights).
  --fine-tune-epochs N  Then unfreeze all but BatchNormalization and train N more epochs (default 0).
  --fine-tune-lr X      Adam's learning rate while fine-tuning (default 0.00001, keras.io's).
  --backend B           auto (tfjs-node-gpu, then tfjs-node, then wasm), tensorflow, wasm or cpu (default auto).
  --out <dir>           Checkpoints, history.json, history.svg, TensorBoard logs (default ./runs/latest).
  --resume              Continue from the checkpoint in --out.`;

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    synthetic: { type: 'boolean', default: false },
    classes: { type: 'string', default: '4' },
    samples: { type: 'string', default: '400' },
    preset: { type: 'string' },
    'input-size': { type: 'string', default: '150' },
    'batch-size': { type: 'string', default: '16' },
    epochs: { type: 'string', default: '10' },
    lr: { type: 'string', default: '0.001' },
    validation: { type: 'string', default: '0.2' },
    'bn-momentum': { type: 'string', default: '0.99' },
    patience: { type: 'string', default: '3' },
    weights: { type: 'string' },
    'freeze-backbone': { type: 'boolean', default: false },
    'fine-tune-epochs': { type: 'string', default: '0' },
    'fine-tune-lr': { type: 'string', default: '0.00001' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'runs/latest' },
    resume: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || (!values.data && !values.synthetic)) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const number = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number; got ${JSON.stringify(values[name])}.`);
  return n;
};
if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(values.backend!)) throw new Error(`--backend must be auto, tensorflow, wasm or cpu; got ${values.backend}.`);

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = resolve(values.out!);
const checkpointDir = join(out, 'checkpoint');
const backend = await selectBackend(values.backend as BackendChoice, log);
log(`Backend: ${backend.name} (${backend.packageName}).`);

const data: DataSet = values.synthetic ? syntheticDataSet(number('classes'), number('samples')) : await folderDataSet(values.data!);
const { train, validation } = split(data.items, number('validation'));
const inputSize = number('input-size');
const batchSize = number('batch-size');
const epochs = number('epochs');
const fineTuneEpochs = Number(values['fine-tune-epochs']);
if (!Number.isInteger(fineTuneEpochs) || fineTuneEpochs < 0) {
  throw new Error(`--fine-tune-epochs must be an integer >= 0; got ${JSON.stringify(values['fine-tune-epochs'])}.`);
}
if (fineTuneEpochs > 0 && !values['freeze-backbone']) {
  throw new Error('--fine-tune-epochs needs --freeze-backbone: it unfreezes the backbone once the head has trained.');
}
const classes = data.classNames.length;
log(`Data: ${data.items.length} images in ${classes} classes (${train.length} training, ${validation.length} validation).`);

let model: tf.LayersModel;
let state: TrainingState;
const nativeFiles = backend.name === 'tensorflow'; // tfjs-node's file:// handler
if (values.resume) {
  ({ model, state } = await loadCheckpoint(checkpointDir, nativeFiles));
  log(`Resuming after epoch ${state.epoch} from ${checkpointDir}.`);
  if (state.epoch >= epochs) log(`Already trained for ${state.epoch} epochs; pass a larger --epochs to continue.`);
} else {
  const preset = (values.preset ?? (values.synthetic ? 'narrow' : 'keras')) as XceptionPresetName | 'narrow';
  const momentum = number('bn-momentum');
  model = await buildModel({
    preset, inputSize, classes, weights: values.weights, freezeBackbone: values['freeze-backbone'],
    batchNormMomentum: momentum === 0.99 ? undefined : momentum,
  });
  model.compile({ optimizer: tf.train.adam(number('lr')), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  state = { epoch: 0, history: {}, classNames: data.classNames, options: { ...values, preset } };
}
const params = countParameters(model);
log(`Model: ${model.name}, ${params.total.toLocaleString('en-US')} parameters (${params.trainable.toLocaleString('en-US')} trainable), input ${inputSize}×${inputSize}.`);
if (backend.name === 'wasm') assertWasmTrainingFits(model, batchSize); // a clear error instead of running out of the 4 GiB heap

const stepsPerEpoch = Math.ceil(train.length / batchSize);
const patience = number('patience');
let best = Math.min(Infinity, ...(state.history['val_loss'] ?? []));
let waited = 0;
const callbacks: tf.CustomCallbackArgs[] = [
  progressBar({ epochs, stepsPerEpoch, batchSize, write: (t) => process.stderr.write(t), tty: process.stderr.isTTY === true }),
  {
    // History, checkpoint and early stopping, in that order, after every epoch.
    onEpochEnd: async (epoch, logs) => {
      for (const [key, value] of Object.entries(logs ?? {})) (state.history[key] ??= []).push(value);
      state.epoch = epoch + 1;
      await saveCheckpoint(model, checkpointDir, state, nativeFiles);
      const valLoss = logs?.['val_loss'] ?? Infinity;
      if (valLoss < best - 1e-4) (best = valLoss), (waited = 0);
      else if (++waited >= patience) {
        log(`Early stopping: no better validation loss for ${waited} epochs.`);
        model.stopTraining = true;
      }
    },
  },
];
if (backend.tfNode) callbacks.push(backend.tfNode.tensorBoard(join(out, 'logs')));

const started = performance.now();
await model.fitDataset(pipeline(train, { size: inputSize, classes, batchSize, augment: true }), {
  epochs,
  initialEpoch: state.epoch,
  validationData: pipeline(validation, { size: inputSize, classes, batchSize, augment: false }),
  callbacks,
  verbose: 0,
});

if (fineTuneEpochs > 0) {
  // keras.io's second step: unfreeze (BatchNormalization stays frozen, in inference mode), compile at a low rate, train on.
  const { trainableParams } = unfreeze(model);
  model.compile({ optimizer: tf.train.adam(number('fine-tune-lr')), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  log(`Fine-tuning: ${trainableParams.toLocaleString('en-US')} trainable parameters, Adam at ${values['fine-tune-lr']}, ${fineTuneEpochs} epochs.`);
  if (backend.name === 'wasm') assertWasmTrainingFits(model, batchSize);
  (best = Infinity), (waited = 0);
  const start = state.epoch;
  await model.fitDataset(pipeline(train, { size: inputSize, classes, batchSize, augment: true }), {
    epochs: start + fineTuneEpochs,
    initialEpoch: start,
    validationData: pipeline(validation, { size: inputSize, classes, batchSize, augment: false }),
    callbacks,
    verbose: 0,
  });
}

await mkdir(out, { recursive: true });
await writeFile(join(out, 'history.json'), `${JSON.stringify({ ...state, seconds: (performance.now() - started) / 1000, backend: backend.name }, null, 2)}\n`);
await writeFile(join(out, 'history.svg'), historyChart(state.history, `${model.name} on ${values.synthetic ? 'generated stripes' : values.data} (${backend.name})`));
const accuracy = state.history['val_acc']?.at(-1);
log(`Done: ${state.epoch} epochs; validation accuracy ${accuracy === undefined ? 'n/a' : accuracy.toFixed(3)} (chance ${(1 / classes).toFixed(3)}).`);
log(`Wrote ${join(out, 'history.json')}, ${join(out, 'history.svg')} and ${checkpointDir}/.`);
