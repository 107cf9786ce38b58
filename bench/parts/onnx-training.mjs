// One bench part: training steps on ONNX Runtime (createOnnxTrainer from xception-ts/onnx,
// Adam, categorical cross-entropy) of the Keras Xception with 10 classes at one input size and
// batch, in a fresh process with no heap cap. Prints one JSON line: step times, images per
// second, the time to build the graph and session, the model's multiply-adds per image, and the
// process' peak RSS.
// --freeze-backbone: transfer learning (freezeBackbone: only the new 10-class head trains).
// --inference: afterwards, createOnnxClassifier's run(input, batch) on the exportOnnx graph of the
//   same model, same batch and threads (one session at a time), and the step's throughput as a
//   fraction of inference's. --rebuild (with --freeze-backbone): afterwards, unfreeze and freeze
//   again, timing the first step after each change (session rebuild + step) and the next three;
//   rebuildMs is the first minus the median of the next.
//
//   node bench/parts/onnx-training.mjs --size 150 --batch 8 [--steps 10] [--warmup 1] [--threads N] [--device cpu|webgpu|cuda|auto]
//     [--freeze-backbone] [--inference] [--rebuild]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception, freezeBackbone, unfreeze } from '../../dist/index.js';
import { createOnnxClassifier, createOnnxTrainer, exportOnnx } from '../../dist/onnx.js';
import { median } from '../../scripts/image.mjs';
import { multiplyAdds } from './model-macs.mjs';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '150' },
    batch: { type: 'string', default: '8' },
    preset: { type: 'string', default: 'keras' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
    'freeze-backbone': { type: 'boolean', default: false },
    inference: { type: 'boolean', default: false },
    rebuild: { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
tf.env().set('PROD', true);
await tf.setBackend('cpu'); // holds the variables and the batch; ONNX Runtime does the training
const model = createXception({ preset: values.preset, numClasses: 10, inputShape: [size, size, 3], allowSmallInput: size < 71 });
const frozen = values['freeze-backbone'] ? freezeBackbone(model) : null;
const x = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2), 10).toFloat();
let start = performance.now();
const trainer = await createOnnxTrainer(model, {
  ort, batchSize: batch, optimizer: { type: 'adam', learningRate: 1e-4 }, device: values.device,
  ...(values.threads ? { threads: Number(values.threads) } : {}),
});
const createMs = performance.now() - start;
const stepMs = [];
const losses = [];
for (let i = 0; i < Number(values.warmup) + Number(values.steps); i++) {
  start = performance.now();
  losses.push(await trainer.trainOnBatch(x, y));
  if (i >= Number(values.warmup)) stepMs.push(performance.now() - start);
}
const timeStep = async () => {
  const begin = performance.now();
  await trainer.trainOnBatch(x, y);
  return performance.now() - begin;
};
let rebuild = null;
if (values.rebuild && frozen) {
  const afterChange = async () => {
    const firstStepMs = await timeStep();
    const nextStepMs = [await timeStep(), await timeStep(), await timeStep()];
    return { firstStepMs, nextStepMs, rebuildMs: firstStepMs - median(nextStepMs) };
  };
  unfreeze(model);
  const unfrozen = await afterChange();
  freezeBackbone(model);
  const refrozen = await afterChange();
  rebuild = { unfreeze: unfrozen, freezeBackbone: refrozen };
}
start = performance.now();
await trainer.syncToModel();
const syncMs = performance.now() - start;
await trainer.dispose();
const medianMs = median(stepMs);
let inference = null;
if (values.inference) {
  const classifier = await createOnnxClassifier({
    model: exportOnnx(model), ort, device: values.device,
    sessionOptions: { graphOptimizationLevel: 'all', ...(values.threads ? { intraOpNumThreads: Number(values.threads) } : {}) },
  });
  const input = Float32Array.from(x.dataSync());
  const runMs = [];
  for (let i = 0; i < Number(values.warmup) + Number(values.steps); i++) {
    start = performance.now();
    await classifier.run(input, batch);
    if (i >= Number(values.warmup)) runMs.push(performance.now() - start);
  }
  await classifier.dispose();
  const runMedianMs = median(runMs);
  inference = { runMedianMs, runMs, imagesPerSecond: (batch * 1000) / runMedianMs, stepThroughputVsInference: runMedianMs / medianMs };
}
console.log(JSON.stringify({
  engine: 'onnxruntime-node', ortVersion: ort.env?.versions?.common ?? null, device: trainer.device, preset: values.preset, size, batch, steps: stepMs.length,
  macsPerImage: multiplyAdds(model),
  frozenBackbone: frozen, inference, rebuild,
  stepMedianMs: medianMs, stepMs, imagesPerSecond: (batch * 1000) / medianMs, createMs, syncMs,
  firstLoss: losses[0], lastLoss: losses.at(-1),
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
}));
