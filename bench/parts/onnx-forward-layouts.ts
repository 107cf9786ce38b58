// The cost of feeding weights as graph inputs: ONNX Runtime (cpu) runs the forward pass of
// the keras preset (inference mode) once from buildEvaluationGraph (weights are graph inputs,
// as in the training graph) and once from exportOnnx (weights are initializers, which lets
// ORT pre-pack them into its NCHWc kernels). Runs are interleaved; medians of --runs.
//   npx tsx bench/parts/onnx-forward-layouts.ts [--runs 7] [--threads 2] [--size 150] [--batch 8] [--profile]
// (--profile writes ORT traces onnx-forward-{inputs,initializers}_*.json; see onnx-profile-summary.ts)
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception } from '../../src/index.js';
import { exportOnnx } from '../../src/onnx/export-onnx.js';
import { buildEvaluationGraph } from '../../src/training/onnx/graph/build-evaluation-graph.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    threads: { type: 'string', default: '2' },
    size: { type: 'string', default: '150' },
    batch: { type: 'string', default: '8' },
    profile: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const size = Number(values.size);
const batch = Number(values.batch);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

tf.env().set('PROD', true);
const model = createXception({ preset: 'keras', inputShape: [size, size, 3], numClasses: 1000 });
const options: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: Number(values.threads),
  interOpNumThreads: 1,
};
const profiled = (prefix: string): ort.InferenceSession.SessionOptions => (values.profile ? { ...options, enableProfiling: true, profileFilePrefix: prefix } : options);
const images = new ort.Tensor('float32', new Float32Array(batch * size * size * 3).map(() => Math.random() * 2 - 1), [batch, size, size, 3]);

const evaluation = buildEvaluationGraph(model, { batchSize: batch });
const labels = new Float32Array(batch * evaluation.classes);
for (let i = 0; i < batch; i++) labels[i * evaluation.classes + i] = 1;
const evaluationFeeds: Record<string, ort.Tensor> = { [evaluation.images]: images, [evaluation.labels]: new ort.Tensor('float32', labels, [batch, evaluation.classes]) };
for (const entry of evaluation.state) {
  const n = entry.shape.reduce((a, b) => a * b, 1);
  const positive = entry.input.endsWith('moving_variance') || entry.input.endsWith('gamma');
  const data = new Float32Array(n).map(() => (positive ? 1 + 0.1 * Math.random() : (Math.random() - 0.5) * 0.05));
  evaluationFeeds[entry.input] = new ort.Tensor('float32', data, entry.shape);
}
const exported = exportOnnx(model, { batchSize: batch });
const cases = [
  { name: 'weights as inputs (buildEvaluationGraph)', session: await ort.InferenceSession.create(evaluation.bytes, profiled('onnx-forward-inputs')), feeds: evaluationFeeds, output: evaluation.logits, times: [] as number[] },
  { name: 'weights as initializers (exportOnnx)', session: await ort.InferenceSession.create(exported, profiled('onnx-forward-initializers')), feeds: { input: images }, output: 'output', times: [] as number[] },
];
for (let i = 0; i <= runs; i++) {
  for (const c of cases) {
    const start = performance.now();
    await c.session.run(c.feeds, [c.output]);
    if (i > 0) c.times.push(performance.now() - start); // the first run is the warm-up
  }
}
const rows = cases.map((c) => ({ graph: c.name, medianMs: Math.round(median(c.times)), minMs: Math.round(Math.min(...c.times)), runs: c.times.map(Math.round) }));
for (const c of cases) {
  if (values.profile) c.session.endProfiling();
  await c.session.release();
}
console.log(JSON.stringify({ size, batch, threads: Number(values.threads), loadAverage1min: Number(loadavg()[0]!.toFixed(1)), rows }, null, 1));
