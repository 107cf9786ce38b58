// Train Xception on your own images (or a generated data set) in Node.
//
//   npm run train -- --data ./my-images --preset keras --input-size 150 --epochs 10
//   npm run train -- --synthetic --classes 4 --preset narrow --input-size 48 --epochs 5
//   npm run train -- --data fashion-mnist --backend onnx --epochs 10
//
// See README.md for every option.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { assertWasmTrainingFits, countParameters, listPresets, plotHistory, unfreeze, type ImageDataset, type XceptionPresetName } from 'xception-ts';
import { createOnnxTrainer, type OnnxDevice } from 'xception-ts/onnx';

const DEVICE_CHOICES: readonly OnnxDevice[] = ['auto', 'cpu', 'webgpu', 'cuda'];
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from './backend.js';
import { loadCheckpoint, saveCheckpoint, type TrainingState } from './checkpoint.js';
import { folderData, writeStripes } from './data.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashionMnist } from './fashion-mnist.js';
import { buildModel, type ComposedPreset } from './model.js';
import { progressBar } from './progress.js';

const USAGE = `Usage: npm run train -- (--data <dir> | --synthetic) [options]

  --data <dir>          One sub-folder per class, holding JPEG or PNG images.
  --data fashion-mnist[:DIR]
                        Fashion-MNIST's IDX files (default DIR ${FASHION_MNIST_DIR}); validates on its
                        10,000 test images. Defaults: --preset postact --input-size 32, 1 channel.
  --samples N           Images of the generated set (default 400), or of Fashion-MNIST's training set used.
  --test-samples N      Fashion-MNIST test images used (default 10000).
  --synthetic           Generate a learnable data set (stripes at one angle per class).
  --classes N           Classes of the generated data set (default 4).
  --preset P            ${listPresets().join(', ')}, or narrow or small (Xception's blocks sized for
                        quick CPU runs and 28–32 px images; default narrow with --synthetic, else keras).
  --input-size N        Square input size (default 150).
  --batch-size N        (default 16)
  --epochs N            (default 10)
  --lr X                Adam's learning rate (default 0.001).
  --validation X        Fraction of each class held out (default 0.2).
  --bn-momentum X|auto  BatchNormalization momentum (default auto: 1 − 10/steps of the run, between
                        0.9 and Keras' 0.99, so that the moving statistics validation uses keep up).
  --patience N          Early stopping: epochs without a better validation loss (default 3).
  --weights W           imagenet, or a Keras .h5 file, for transfer learning.
  --freeze-backbone     Train only the new classifier head (with --weights).
  --fine-tune-epochs N  Then unfreeze all but BatchNormalization and train N more epochs (default 0).
  --fine-tune-lr X      Adam's learning rate while fine-tuning (default 0.00001, keras.io's).
  --backend B           auto (tfjs-node-gpu, then tfjs-node, then onnx, then wasm), tensorflow, onnx
                        (ONNX Runtime), wasm or cpu (default auto).
  --device D            ONNX Runtime's device: auto (CUDA, then WebGPU on a real GPU, else the CPU),
                        cpu, webgpu (Dawn over Vulkan/Metal/D3D12) or cuda (default auto).
  --threads N           ONNX Runtime's threads (default: one per core).
  --schedule S          constant or cosine (decays --lr to 0 over the run; onnx backend only).
  --max-minutes M       Stop after the first epoch that ends past M minutes of training.
  --out <dir>           Checkpoints, history.json, history.svg, TensorBoard logs (default ./runs/latest).
  --resume              Continue from the checkpoint in --out.`;

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    synthetic: { type: 'boolean', default: false },
    classes: { type: 'string', default: '4' },
    samples: { type: 'string' },
    'test-samples': { type: 'string', default: '10000' },
    threads: { type: 'string' },
    schedule: { type: 'string', default: 'constant' },
    'max-minutes': { type: 'string' },
    preset: { type: 'string' },
    'input-size': { type: 'string' },
    'batch-size': { type: 'string', default: '16' },
    epochs: { type: 'string', default: '10' },
    lr: { type: 'string', default: '0.001' },
    validation: { type: 'string', default: '0.2' },
    'bn-momentum': { type: 'string', default: 'auto' },
    patience: { type: 'string', default: '3' },
    weights: { type: 'string' },
    'freeze-backbone': { type: 'boolean', default: false },
    'fine-tune-epochs': { type: 'string', default: '0' },
    'fine-tune-lr': { type: 'string', default: '0.00001' },
    backend: { type: 'string', default: 'auto' },
    device: { type: 'string', default: 'auto' },
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
if (!BACKEND_CHOICES.includes(values.backend as BackendChoice)) throw new Error(`--backend must be auto, tensorflow, onnx, wasm or cpu; got ${values.backend}.`);
if (!DEVICE_CHOICES.includes(values.device as OnnxDevice)) throw new Error(`--device must be auto, cpu, webgpu or cuda; got ${values.device}.`);
if (values.device !== 'auto' && values.backend !== 'onnx' && values.backend !== 'auto') throw new Error(`--device ${values.device} needs --backend onnx (or auto).`);
if (!['constant', 'cosine'].includes(values.schedule!)) throw new Error(`--schedule must be constant or cosine; got ${values.schedule}.`);
if (values.schedule === 'cosine' && values.backend !== 'onnx' && values.backend !== 'auto') throw new Error('--schedule cosine needs --backend onnx.');
const fashion = /^fashion-mnist(:|$)/.test(values.data ?? '') ? values.data!.slice('fashion-mnist:'.length) || FASHION_MNIST_DIR : undefined;

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = resolve(values.out!);
const checkpointDir = join(out, 'checkpoint');
const backend = await selectBackend(values.backend as BackendChoice, log);
log(`Backend: ${backend.name} (${backend.packageName}).`);

values['input-size'] ??= fashion ? '32' : '150';
values.samples ??= fashion ? '60000' : '400';
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
const channels = fashion ? 1 : 3;
let classNames: readonly string[];
let trainBatches: ImageDataset;
let validationBatches: ImageDataset | undefined;
if (fashion) {
  // Fashion-MNIST: its own split (60,000 training, 10,000 test images), held in memory as bytes.
  const { train, test } = await fashionMnist(fashion, { size: inputSize, channels, batchSize, samples: number('samples'), testSamples: number('test-samples') });
  classNames = FASHION_MNIST_CLASSES;
  [trainBatches, validationBatches] = [train, test];
  log(`Data: Fashion-MNIST from ${fashion}: ${train.imageCount} training and ${test.imageCount} test images, 28×28 centred on ${inputSize}×${inputSize}.`);
} else {
  const dir = values.synthetic ? writeStripes(join(out, 'synthetic'), number('classes'), number('samples'), inputSize) : values.data!;
  ({ classNames, train: trainBatches, validation: validationBatches } = await folderData(dir, { size: inputSize, batchSize, validation: number('validation') }));
  const held = validationBatches?.imageCount ?? 0;
  log(`Data: ${trainBatches.imageCount + held} images in ${classNames.length} classes (${trainBatches.imageCount} training, ${held} validation).`);
}
const stepsPerEpoch = trainBatches.size;
const classes = classNames.length;

let model: tf.LayersModel;
let state: TrainingState;
const nativeFiles = backend.name === 'tensorflow'; // tfjs-node's file:// handler
if (values.resume) {
  ({ model, state } = await loadCheckpoint(checkpointDir, nativeFiles));
  log(`Resuming after epoch ${state.epoch} from ${checkpointDir}.`);
  if (state.epoch >= epochs) log(`Already trained for ${state.epoch} epochs; pass a larger --epochs to continue.`);
} else {
  const preset = (values.preset ?? (values.synthetic ? 'narrow' : fashion ? 'postact' : 'keras')) as XceptionPresetName | ComposedPreset;
  const momentum = batchNormMomentum(values['bn-momentum']!, epochs * stepsPerEpoch);
  log(`BatchNormalization momentum: ${momentum}${values['bn-momentum'] === 'auto' ? ` (auto, for ${epochs * stepsPerEpoch} steps; --bn-momentum to set it)` : ''}.`);
  model = await buildModel({
    preset, inputSize, channels, classes, weights: values.weights, freezeBackbone: values['freeze-backbone'],
    batchNormMomentum: momentum === 0.99 ? undefined : momentum,
  });
  model.compile({ optimizer: tf.train.adam(number('lr')), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  state = { epoch: 0, history: {}, classNames: [...classNames], options: { ...values, preset } };
}
const params = countParameters(model);
log(`Model: ${model.name}, ${params.total.toLocaleString('en-US')} parameters (${params.trainable.toLocaleString('en-US')} trainable), input ${inputSize}×${inputSize}×${channels}.`);
if (backend.name === 'wasm') assertWasmTrainingFits(model, batchSize); // a clear error instead of running out of the 4 GiB heap

const patience = number('patience');
const maxMinutes = values['max-minutes'] === undefined ? Infinity : number('max-minutes');
const trainingStarted = performance.now();
let best = Math.min(Infinity, ...(state.history['val_loss'] ?? []));
let waited = 0;
// ONNX Runtime trains through xception-ts/onnx's trainer; the tfjs model holds the weights between syncs.
const onnxTrainer = (rate: number | ((epoch: number, step: number) => number)) =>
  backend.ort
    ? createOnnxTrainer(model, {
        ort: backend.ort,
        optimizer: { type: 'adam', learningRate: rate },
        batchSize,
        device: values.device as OnnxDevice,
        ...(values.threads ? { threads: number('threads') } : {}),
      })
    : undefined;
let trainer = await onnxTrainer(learningRate(values.schedule!, number('lr'), epochs * stepsPerEpoch));
if (trainer) log(`ONNX Runtime device: ${trainer.device.device}${trainer.device.adapter ? ` (${trainer.device.adapter})` : ''}; ${trainer.device.reason}.`);
if (trainer && values.resume) log("Resuming on ONNX Runtime: the weights continue from the checkpoint, Adam's moments start again from zero.");
const callbacks: tf.CustomCallbackArgs[] = [
  progressBar({ epochs, stepsPerEpoch, batchSize, write: (t) => process.stderr.write(t), tty: process.stderr.isTTY === true }),
  {
    // History, checkpoint and early stopping, in that order, after every epoch.
    onEpochEnd: async (epoch, logs) => {
      for (const [key, value] of Object.entries(logs ?? {})) (state.history[key] ??= []).push(value);
      state.epoch = epoch + 1;
      await trainer?.syncToModel(); // ONNX Runtime's weights into the tfjs model, for the checkpoint
      await saveCheckpoint(model, checkpointDir, state, nativeFiles);
      const valLoss = logs?.['val_loss'] ?? Infinity;
      if (valLoss < best - 1e-4) (best = valLoss), (waited = 0);
      else if (++waited >= patience) {
        log(`Early stopping: no better validation loss for ${waited} epochs.`);
        if (trainer) trainer.stopTraining = true;
        else model.stopTraining = true;
      }
      if ((performance.now() - trainingStarted) / 60_000 > maxMinutes && epoch + 1 < epochs) {
        log(`Stopping: past --max-minutes ${maxMinutes} after epoch ${epoch + 1}.`);
        if (trainer) trainer.stopTraining = true;
        else model.stopTraining = true;
      }
    },
  },
];
if (backend.tfNode) callbacks.push(backend.tfNode.tensorBoard(join(out, 'logs')));

const started = performance.now();
/** Trains from `state.epoch` up to epoch `until`: on ONNX Runtime through the trainer, else with tfjs' fitDataset. */
async function train(until: number): Promise<void> {
  if (trainer) {
    // The same callbacks, called by the ONNX trainer's fit (it disposes each batch's tensors).
    await trainer.fit(trainBatches, {
      epochs: until,
      initialEpoch: state.epoch,
      ...(validationBatches ? { validationData: validationBatches } : {}),
      callbacks: {
        onEpochBegin: async (epoch) => { for (const c of callbacks) await c.onEpochBegin?.(epoch); },
        onBatchEnd: async (batch, logs) => { for (const c of callbacks) await c.onBatchEnd?.(batch, { loss: logs.loss, acc: logs.acc }); },
        onEpochEnd: async (epoch, logs) => { for (const c of callbacks) await c.onEpochEnd?.(epoch, { ...logs }); },
      },
    });
    await trainer.dispose();
  } else {
    await model.fitDataset(trainBatches, { epochs: until, initialEpoch: state.epoch, validationData: validationBatches, callbacks, verbose: 0 });
  }
}
await train(epochs);

if (fineTuneEpochs > 0) {
  // keras.io's second step: unfreeze (BatchNormalization stays frozen, in inference mode), a low rate, train on.
  const { trainableParams } = unfreeze(model);
  log(`Fine-tuning: ${trainableParams.toLocaleString('en-US')} trainable parameters, Adam at ${values['fine-tune-lr']}, ${fineTuneEpochs} epochs.`);
  if (backend.name === 'wasm') assertWasmTrainingFits(model, batchSize);
  trainer = await onnxTrainer(number('fine-tune-lr')); // a new training graph: the trainable set changed
  if (!trainer) model.compile({ optimizer: tf.train.adam(number('fine-tune-lr')), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  (best = Infinity), (waited = 0);
  await train(state.epoch + fineTuneEpochs);
}

await mkdir(out, { recursive: true });
await writeFile(join(out, 'history.json'), `${JSON.stringify({ ...state, seconds: (performance.now() - started) / 1000, backend: backend.name }, null, 2)}\n`);
await writeFile(join(out, 'history.svg'), plotHistory(state.history, { title: `${model.name} on ${values.synthetic ? 'generated stripes' : fashion ? 'Fashion-MNIST' : values.data} (${backend.name})` }));
const accuracy = state.history['val_acc']?.at(-1);
log(`Done: ${state.epoch} epochs; validation accuracy ${accuracy === undefined ? 'n/a' : accuracy.toFixed(3)} (chance ${(1 / classes).toFixed(3)}).`);
log(`Wrote ${join(out, 'history.json')}, ${join(out, 'history.svg')} and ${checkpointDir}/.`);

/** Adam's learning rate: constant, or cosine decay from `rate` to 0 over `totalSteps`. */
function learningRate(schedule: string, rate: number, totalSteps: number): number | ((epoch: number, step: number) => number) {
  if (schedule === 'constant') return rate;
  return (_epoch, step) => 0.5 * rate * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / totalSteps));
}

/**
 * BatchNormalization's momentum. Validation runs BN on its moving statistics, an average over the
 * last ~1/(1 − momentum) steps that starts at mean 0, variance 1: with Keras' 0.99 it needs several
 * hundred steps to leave those values, and a short run that already fits its training data scores
 * chance on held-out data. 'auto' keeps that memory to a tenth of the run: 1 − 10/steps, clamped
 * to [0.9, 0.99] (Keras' 0.99 from 1,000 steps on).
 */
function batchNormMomentum(value: string, steps: number): number {
  if (value === 'auto') return Math.min(0.99, Math.max(0.9, Number((1 - 10 / steps).toFixed(3))));
  const momentum = Number(value);
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`--bn-momentum must be auto or a number in [0, 1); got ${JSON.stringify(value)}.`);
  return momentum;
}
