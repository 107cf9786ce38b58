// npm run demo: build Keras Applications' Xception on the wasm backend and time a
// 299×299 forward pass on a bundled photo. The weights are random (ImageNet
// weights are not part of 0.1), so the predicted classes mean nothing yet.
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { countParameters, createXception } from '../dist/index.js';
import { median, readPng, toModelInput } from './image.mjs';
import { useWasmBackend } from './wasm-backend.mjs';

const RUNS = 5;
const imagePath = fileURLToPath(new URL('../examples/images/chelsea.png', import.meta.url));

const backend = await useWasmBackend();
let start = performance.now();
const model = createXception();
const buildMs = performance.now() - start;
const { total, trainable, nonTrainable } = countParameters(model);

const image = readPng(imagePath);
const input = toModelInput(image, 299);

const times = [];
let probabilities;
for (let run = 0; run <= RUNS; run++) {
  tf.dispose(probabilities);
  start = performance.now();
  probabilities = model.predict(input);
  await probabilities.data();
  if (run > 0) times.push(performance.now() - start); // run 0 warms up the kernels
}
const { values, indices } = tf.topk(probabilities, 3);
const top = Array.from(indices.dataSync()).map((c, i) => `#${c} (${values.dataSync()[i].toFixed(4)})`);

const fmt = (n) => n.toLocaleString('en-US');
console.log(`${model.name}: ${model.layers.length} layers, ${fmt(total)} params (${fmt(trainable)} trainable, ${fmt(nonTrainable)} non-trainable)`);
console.log(`built in ${buildMs.toFixed(0)} ms; input ${image.shape.join('×')} → ${input.shape.join('×')}`);
console.log(`forward pass 299×299 on ${backend}: median ${median(times).toFixed(0)} ms over ${RUNS} runs (min ${Math.min(...times).toFixed(0)} ms)`);
console.log(`top-3 classes (random weights, meaningless until ImageNet weights load): ${top.join(', ')}`);
tf.dispose([image, input, probabilities, values, indices]);
model.dispose();
