// One bench part: this machine's single-precision matrix-multiply rate, the yardstick every
// "distance to the limit" of npm run bench divides by (measured where the bench runs, never
// assumed): ONNX Runtime's MatMul (MLAS SGEMM) of [n, n] by a constant [n, n] (prepacked, its best
// case), with one thread per core unless --threads says otherwise. Prints one JSON line:
// GFLOP/s from the median run and from the fastest, 2·n³ FLOP per product.
//
//   npx tsx bench/parts/sgemm-peak.ts [--size 2048] [--runs 10] [--threads N]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { GraphWriter } from '../../src/training/onnx/graph/graph-writer.js';
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

const { values } = parseArgs({ options: { size: { type: 'string', default: '2048' }, runs: { type: 'string', default: '10' }, threads: { type: 'string' } } });
const n = Number(values.size);
const threads = Number(values.threads ?? cpus().length);
const random = (count: number) => Float32Array.from({ length: count }, () => Math.random() - 0.5);
const g = new GraphWriter();
const a = g.input('a', [n, n]);
const b = g.initializer('b', random(n * n), [n, n]);
g.output(g.op('MatMul', [a, b], 'product'), 'c', [n, n]);
const session = await ort.InferenceSession.create(g.encode('sgemm', 'sgemm'), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const feeds: Record<string, ort.Tensor> = { a: new ort.Tensor('float32', random(n * n), [n, n]) };
const times: number[] = [];
for (let i = 0; i <= Number(values.runs); i++) {
  const start = performance.now();
  await session.run(feeds);
  if (i > 0) times.push(performance.now() - start); // run 0 warms up
}
await session.release();
const flop = 2 * n ** 3;
console.log(JSON.stringify({
  size: n, threads, runs: times.length, medianMs: median(times), minMs: Math.min(...times),
  gflops: flop / median(times) / 1e6, bestGflops: flop / Math.min(...times) / 1e6, cpu: cpus()[0]?.model ?? 'cpu',
}));
