// The ONNX training step of the keras preset on ONNX Runtime (cpu): one Adam step at
// 150×150, batch 8, median of --runs after a warm-up, for each formulation of the
// gradients given with --variants (see ConvFormulation in src/training/onnx-graph).
//   npx tsx bench/parts/onnx-training-step.ts [--runs 7] [--threads 2] [--size 150] [--batch 8]
//       [--variants groupedConv,taps,patches,groupedConv/matmul,groupedConv/conv/mask,groupedConv/conv/where/indices/nchwc] [--preset keras] [--classes 1000] [--optimizer adam] [--profile]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception } from '../../src/index.js';
import { nchwcBlockSize } from '../../src/training/onnx/cpu-kernels.js';
import { buildTrainingGraph } from '../../src/training/onnx/graph/build-training-graph.js';
import type { DepthwiseFilterGradient, PointwiseConv } from '../../src/training/onnx/graph/conv-gradients.js';
import type { ReluGradient } from '../../src/training/onnx/graph/elementwise.js';
import type { TrainingGraph } from '../../src/training/onnx/graph/training-graph.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    threads: { type: 'string', default: '2' },
    size: { type: 'string', default: '150' },
    batch: { type: 'string', default: '8' },
    variants: { type: 'string', default: 'groupedConv' },
    preset: { type: 'string', default: 'keras' },
    classes: { type: 'string', default: '1000' },
    optimizer: { type: 'string', default: 'adam' },
    profile: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const size = Number(values.size);
const batch = Number(values.batch);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

tf.env().set('PROD', true);
const model = createXception({
  preset: values.preset as 'keras',
  inputShape: [size, size, 3],
  numClasses: Number(values.classes),
  allowSmallInput: size < 71,
});

/** Feeds with the model's weights (layout changes in plain JS; tfjs' cpu transpose is slow). */
function feedsOf(graph: TrainingGraph): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const entry of graph.state) {
    const n = entry.shape.reduce((a, b) => a * b, 1);
    // Random values of the right size suffice for timing; BN variances must stay positive.
    const data = new Float32Array(n);
    const positive = entry.input.endsWith('moving_variance') || entry.input.endsWith('gamma');
    for (let i = 0; i < n; i++) data[i] = positive ? 1 + 0.1 * Math.random() : (Math.random() - 0.5) * 0.05;
    if (entry.kind === 'optimizerSlot' || entry.kind === 'step') data.fill(entry.initial ?? 0);
    feeds[entry.input] = new ort.Tensor('float32', data, entry.shape);
  }
  const images = new Float32Array(batch * size * size * 3).map(() => Math.random() * 2 - 1);
  feeds[graph.images] = new ort.Tensor('float32', images, [batch, size, size, 3]);
  const labels = new Float32Array(batch * graph.classes);
  for (let i = 0; i < batch; i++) labels[i * graph.classes + ((i * 37) % graph.classes)] = 1;
  feeds[graph.labels] = new ort.Tensor('float32', labels, [batch, graph.classes]);
  feeds[graph.learningRate] = new ort.Tensor('float32', new Float32Array([1e-3]), []);
  return feeds;
}

// Every variant gets its own session; runs are interleaved (variant A, B, A, B, …) so that a
// change in the machine's load (it is shared) falls on all of them alike.
const variants = values.variants.split(',');
const sessions = [];
for (const variant of variants) {
  const graph = buildTrainingGraph(model, {
    optimizer: { type: values.optimizer as 'adam' },
    batchSize: batch,
    // A variant is a depthwise filter gradient, then optionally '/conv' or '/matmul' (pointwise
    // convolutions), '/where' or '/mask' (ReLU gradient), '/taps' or '/indices' (max-pool
    // gradient) and '/nchwc' (depthwise convolutions on ONNX Runtime's NCHWc kernel), e.g.
    // groupedConv/conv/where/indices/nchwc (the trainer's CPU flavour).
    formulation: {
      depthwiseFilterGradient: variant.split('/')[0] as DepthwiseFilterGradient,
      pointwise: (variant.split('/')[1] ?? 'conv') as PointwiseConv,
      reluGradient: (variant.split('/')[2] ?? 'where') as ReluGradient,
      maxPoolGradient: (variant.split('/')[3] ?? 'taps') as 'taps' | 'indices',
      nchwcBlock: variant.split('/')[4] === 'nchwc' ? await nchwcBlockSize(ort) : null,
    },
  });
  const session = await ort.InferenceSession.create(graph.bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: Number(values.threads),
    interOpNumThreads: 1,
    enableProfiling: values.profile,
    ...(values.profile ? { profileFilePrefix: `onnx-training-step-${variant.replaceAll('/', '-')}` } : {}),
  });
  const feeds = feedsOf(graph);
  // Spare buffers for the new state, as the trainer keeps them: onnxruntime-node writes the
  // outputs into them (pre-allocated outputs), then they swap with the inputs.
  const spare: Record<string, ort.Tensor> = {};
  for (const state of graph.state) if (state.output !== state.input) spare[state.input] = new ort.Tensor('float32', new Float32Array(feeds[state.input]!.size), state.shape);
  sessions.push({ variant, graph, session, feeds, spare, times: [] as number[] });
}
for (let i = 0; i <= runs; i++) {
  for (const entry of sessions) {
    const fetches: Record<string, ort.Tensor | null> = { [entry.graph.loss]: null, [entry.graph.logits]: null };
    for (const state of entry.graph.state) if (state.output !== state.input) fetches[state.output] = entry.spare[state.input]!;
    const start = performance.now();
    const out = await entry.session.run(entry.feeds, fetches);
    const ms = performance.now() - start;
    if (i > 0) entry.times.push(ms); // the first run is the warm-up
    // Feed the new state back and keep the old as the next spare buffers, as the trainer does.
    const next = { ...entry.feeds };
    for (const state of entry.graph.state) {
      if (state.output === state.input) continue;
      entry.spare[state.input] = entry.feeds[state.input]!;
      next[state.input] = out[state.output]!;
    }
    entry.feeds = next;
  }
}
const rows = [];
for (const { variant, session, times } of sessions) {
  if (values.profile) session.endProfiling();
  await session.release();
  const m = median(times);
  rows.push({ variant, medianMs: Math.round(m), minMs: Math.round(Math.min(...times)), imagesPerSecond: Number(((batch * 1000) / m).toFixed(1)), runs: times.map(Math.round) });
}
const load = (await import("node:os")).loadavg()[0]!.toFixed(1);
console.log(JSON.stringify({ preset: values.preset, size, batch, optimizer: values.optimizer, threads: Number(values.threads), loadAverage1min: Number(load), rows }, null, 1));
