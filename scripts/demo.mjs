// npm run demo: build Keras Applications' Xception on the wasm backend and time a
// 299×299 forward pass on a bundled photo. The weights are random (the official
// ImageNet file cannot be downloaded here; pass a local copy as the first
// argument to classify for real), so by default the predicted classes mean nothing.
//   npm run demo [-- path/to/xception_weights_tf_dim_ordering_tf_kernels.h5]
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { countParameters, createXception, decodePredictions, loadKerasWeights, preprocessInput } from '../dist/index.js';
import { median, readPng } from './image.mjs';
import { useWasmBackend } from './wasm-backend.mjs';

const RUNS = 5;
const imagePath = fileURLToPath(new URL('../examples/images/chelsea.png', import.meta.url));
const weightsPath = process.argv[2];

const backend = await useWasmBackend();
let start = performance.now();
const model = createXception();
const buildMs = performance.now() - start;
const { total, trainable, nonTrainable } = countParameters(model);
if (weightsPath) await loadKerasWeights(model, weightsPath);

const image = readPng(imagePath);
const resized = tf.image.resizeBilinear(image, [299, 299]).expandDims(0);
const input = preprocessInput(resized);

const times = [];
let probabilities;
for (let run = 0; run <= RUNS; run++) {
  tf.dispose(probabilities);
  start = performance.now();
  probabilities = model.predict(input);
  await probabilities.data();
  if (run > 0) times.push(performance.now() - start); // run 0 warms up the kernels
}
const [top3] = decodePredictions(probabilities, 3);
const top = top3.map((p) => `${p.label} #${p.classIndex} (${p.probability.toFixed(4)})`);

const fmt = (n) => n.toLocaleString('en-US');
console.log(`${model.name}: ${model.layers.length} layers, ${fmt(total)} params (${fmt(trainable)} trainable, ${fmt(nonTrainable)} non-trainable)`);
console.log(`built in ${buildMs.toFixed(0)} ms; input ${image.shape.join('×')} → ${input.shape.join('×')}`);
console.log(`forward pass 299×299 on ${backend}: median ${median(times).toFixed(0)} ms over ${RUNS} runs (min ${Math.min(...times).toFixed(0)} ms)`);
console.log(`top-3 classes${weightsPath ? '' : ' (random weights: meaningless without a weight file)'}: ${top.join('; ')}`);
tf.dispose([image, resized, input, probabilities]);
model.dispose();
