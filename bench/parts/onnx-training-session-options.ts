// ONNX Runtime session options for the ONNX training step (keras preset, Adam, 150×150,
// batch 8): one session per configuration over the same graph, runs interleaved, medians.
//   npx tsx bench/parts/onnx-training-session-options.ts [--runs 5] [--size 150] [--batch 8] [--only spinning,denormal] [--reverse]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception } from '../../src/index.js';
import { buildTrainingGraph } from '../../src/training/onnx/graph/build-training-graph.js';

const { values } = parseArgs({
  options: { reverse: { type: 'boolean', default: false }, only: { type: 'string', default: '' }, runs: { type: 'string', default: '5' }, size: { type: 'string', default: '150' }, batch: { type: 'string', default: '8' } },
});
const size = Number(values.size);
const batch = Number(values.batch);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
tf.env().set('PROD', true);
const model = createXception({ preset: 'keras', inputShape: [size, size, 3], numClasses: 1000 });
const graph = buildTrainingGraph(model, { optimizer: { type: 'adam' }, batchSize: batch });
const feeds: Record<string, ort.Tensor> = {};
for (const entry of graph.state) {
  const n = entry.shape.reduce((a, b) => a * b, 1);
  const positive = entry.input.endsWith('moving_variance') || entry.input.endsWith('gamma');
  const data = new Float32Array(n).map(() => (positive ? 1 + 0.1 * Math.random() : (Math.random() - 0.5) * 0.05));
  if (entry.kind === 'optimizerSlot' || entry.kind === 'step') data.fill(entry.initial ?? 0);
  feeds[entry.input] = new ort.Tensor('float32', data, entry.shape);
}
feeds[graph.images] = new ort.Tensor('float32', new Float32Array(batch * size * size * 3).map(() => Math.random() * 2 - 1), [batch, size, size, 3]);
const labels = new Float32Array(batch * graph.classes);
for (let i = 0; i < batch; i++) labels[i * graph.classes + ((i * 37) % graph.classes)] = 1;
feeds[graph.labels] = new ort.Tensor('float32', labels, [batch, graph.classes]);
feeds[graph.learningRate] = new ort.Tensor('float32', new Float32Array([1e-3]), []);

const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1 };
const spinning = (allow: '0' | '1') => ({ extra: { session: { intra_op: { allow_spinning: allow } } } }) as ort.InferenceSession.SessionOptions;
const all: [string, ort.InferenceSession.SessionOptions][] = [
  ['bench (all, sequential, arena, mem pattern)', base],
  ["graphOptimizationLevel 'extended'", { ...base, graphOptimizationLevel: 'extended' }],
  ["graphOptimizationLevel 'basic'", { ...base, graphOptimizationLevel: 'basic' }],
  ['enableMemPattern false', { ...base, enableMemPattern: false }],
  ['enableCpuMemArena false', { ...base, enableCpuMemArena: false }],
  ["executionMode 'parallel', interOp 2", { ...base, executionMode: 'parallel', interOpNumThreads: 2 }],
  ['session.intra_op.allow_spinning 0', { ...base, ...spinning('0') }],
  ['session.set_denormal_as_zero 1', { ...base, extra: { session: { set_denormal_as_zero: '1' } } }],
];
// --only picks configurations by substring (the first, the bench's own, is always kept).
const configs = all.filter(([name], i) => i === 0 || values.only === '' || values.only.split(',').some((part) => name.includes(part)));
const sessions = [];
// --reverse runs the configurations in the opposite order in each round (to see order effects).
for (const [name, options] of values.reverse ? [...configs].reverse() : configs) sessions.push({ name, session: await ort.InferenceSession.create(graph.bytes, options), times: [] as number[] });
for (let i = 0; i <= Number(values.runs); i++) {
  for (const s of sessions) {
    const start = performance.now();
    await s.session.run(feeds); // the same state every run: timing only
    if (i > 0) s.times.push(performance.now() - start);
  }
}
console.log(`load average ${loadavg()[0]!.toFixed(1)}, runs ${values.runs} (median ms, min ms)`);
for (const s of sessions) console.log(`${s.name.padEnd(48)} ${median(s.times).toFixed(0).padStart(6)} ${Math.min(...s.times).toFixed(0).padStart(6)}`);
