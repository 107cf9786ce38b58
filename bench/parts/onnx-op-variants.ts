// Single operations of the training graph in alternative formulations, on ONNX Runtime (cpu),
// at Xception's shapes (keras preset, 150×150, batch 8): each case is a one-node (or few-node)
// graph; weights are graph inputs unless the case says initializer. Runs are interleaved;
// medians of --runs.
//   npx tsx bench/parts/onnx-op-variants.ts [--runs 9] [--threads 2] [--only substring]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { float, GraphWriter, int, ints } from '../../src/training/onnx/graph/graph-writer.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '9' }, threads: { type: 'string', default: '2' }, only: { type: 'string', default: '' } },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const random = (shape: number[]) => new Float32Array(size(shape)).map(() => Math.random() - 0.5);

interface Case { name: string; bytes: Uint8Array; feeds: Record<string, ort.Tensor> }
/** A graph of `inputs` (fed random values), `constants` (initializers) and `body` writing one output. */
function graph(name: string, inputs: Record<string, number[]>, constants: Record<string, number[]>, body: (g: GraphWriter, v: Record<string, string>) => string): Case {
  const g = new GraphWriter();
  const v: Record<string, string> = {};
  const feeds: Record<string, ort.Tensor> = {};
  for (const [key, shape] of Object.entries(inputs)) {
    v[key] = g.input(key, shape);
    feeds[key] = new ort.Tensor('float32', random(shape), shape);
  }
  for (const [key, shape] of Object.entries(constants)) v[key] = g.floats(random(shape), shape, key);
  g.output(body(g, v), 'out', []);
  return { name, bytes: g.encode(name, name), feeds };
}
const perm = (p: number[]) => [ints('perm', p)];
const dw = (c: number, pads: number[] = [1, 1, 1, 1]) => [ints('kernel_shape', [3, 3]), ints('pads', pads), int('group', c)];

// ONNX Runtime's NCHWc block (8 channels with AVX2, 16 with AVX-512): ReorderInput pads the
// channels of a four-channel input (it takes multiples of 4) up to one block.
const blockProbe = new GraphWriter();
blockProbe.output(blockProbe.domainOp('com.microsoft.nchwc', 'ReorderInput', [blockProbe.input('x', [1, 4, 1, 1])], 'blocked'), 'out', []);
const probeSession = await ort.InferenceSession.create(blockProbe.encode('block', 'block'));
const block = (await probeSession.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) })).out!.dims[1]!;
const padded = (c: number) => Math.ceil(c / block) * block;
const nchwc = 'com.microsoft.nchwc';

const cases: Case[] = [];
// Keras Xception at 299×299 batch 8 (19, 38, 75) and at 150×150 (9), and a small Xception at
// 32×32 batch 128 (4, 8: bench:fashion's model).
for (const [n, c, o, h] of [[8, 728, 728, 19], [8, 256, 256, 38], [8, 128, 128, 75], [8, 728, 728, 9], [128, 256, 256, 4], [128, 128, 128, 8]] as const) {
  const x = [n, c, h, h];
  const tag = `${n}x${c}x${h}x${h}`;
  // ReLU gradient
  cases.push(graph(`relu dx Where(Greater(y, 0), dy, 0) ${tag}`, { y: x, dy: x }, {}, (g, v) =>
    g.op('Where', [g.op('Greater', [v.y!, g.scalar(0)], 'p'), v.dy!, g.scalar(0)], 'dx')));
  cases.push(graph(`relu dx Mul(dy, Sign(y)) ${tag}`, { y: x, dy: x }, {}, (g, v) => g.op('Mul', [v.dy!, g.op('Sign', [v.y!], 's')], 'dx')));
  cases.push(graph(`relu dx Mul(dy, Cast(Greater(y, 0))) ${tag}`, { y: x, dy: x }, {}, (g, v) =>
    g.op('Mul', [v.dy!, g.op('Cast', [g.op('Greater', [v.y!, g.scalar(0)], 'p')], 'c', [int('to', 1)])], 'dx')));
  // Pointwise forward
  cases.push(graph(`pw fwd Conv1x1 W input ${tag}`, { x, w: [o, c, 1, 1] }, {}, (g, v) => g.op('Conv', [v.x!, v.w!], 'y')));
  cases.push(graph(`pw fwd Conv1x1 W init ${tag}`, { x }, { w: [o, c, 1, 1] }, (g, v) => g.op('Conv', [v.x!, v.w!], 'y')));
  cases.push(graph(`pw fwd MatMul W[O,I]·X[N,I,HW] ${tag}`, { x: [n, c, h * h], w: [o, c] }, {}, (g, v) => g.op('MatMul', [v.w!, v.x!], 'y')));
  cases.push(graph(`pw fwd MatMul NHWC X[NHW,I]·W[I,O] ${tag}`, { x: [n * h * h, c], w: [c, o] }, {}, (g, v) => g.op('MatMul', [v.x!, v.w!], 'y')));
  // Pointwise input gradient
  cases.push(graph(`pw dx Transpose+Conv1x1 ${tag}`, { x: [n, o, h, h], w: [o, c, 1, 1] }, {}, (g, v) => g.op('Conv', [v.x!, g.op('Transpose', [v.w!], 'wt', perm([1, 0, 2, 3]))], 'y')));
  cases.push(graph(`pw dx NHWC dY[NHW,O]·Wᵀ ${tag}`, { x: [n * h * h, o], w: [c, o] }, {}, (g, v) => g.op('Gemm', [v.x!, v.w!], 'y', [int('transB', 1)])));
  // Pointwise filter gradient
  cases.push(graph(`pw dW NHWC Xᵀ[I,NHW]·dY[NHW,O] ${tag}`, { x: [n * h * h, c], dy: [n * h * h, o] }, {}, (g, v) => g.op('Gemm', [v.x!, v.dy!], 'y', [int('transA', 1)])));
  cases.push(graph(`pw dW NCHW transposes+Gemm ${tag}`, { x, dy: [n, o, h, h] }, {}, (g, v) => {
    const rows = (t: string, ch: number) => g.op('Reshape', [g.op('Transpose', [t], 't', perm([1, 0, 2, 3])), g.int64s([ch, n * h * h])], 'r');
    return g.op('Gemm', [rows(v.dy!, o), rows(v.x!, c)], 'y', [int('transB', 1)]);
  }));
  // ONNX Runtime's NCHWc contrib kernels (com.microsoft.nchwc Conv reads its filter as an ordinary
  // input, in the blocked layout; random values suffice for timing): with the reorders a
  // NCHW graph would need around each convolution, and alone (the graph kept NCHWc throughout).
  cases.push(graph(`pw fwd nchwc Conv W input + reorders ${tag}`, { x, w: [padded(o), padded(c), 1, 1] }, {}, (g, v) =>
    g.domainOp(nchwc, 'ReorderOutput', [g.domainOp(nchwc, 'Conv', [g.domainOp(nchwc, 'ReorderInput', [v.x!], 'xb'), v.w!], 'yb', [ints('kernel_shape', [1, 1])])], 'y', [int('channels', o)])));
  cases.push(graph(`pw fwd nchwc Conv W input, blocked in/out ${tag}`, { x: [n, padded(c), h, h], w: [padded(o), padded(c), 1, 1] }, {}, (g, v) =>
    g.domainOp(nchwc, 'Conv', [v.x!, v.w!], 'y', [ints('kernel_shape', [1, 1])])));
  cases.push(graph(`dw fwd nchwc Conv group W input + reorders ${tag}`, { x, w: [padded(c), 1, 3, 3] }, {}, (g, v) =>
    g.domainOp(nchwc, 'ReorderOutput', [g.domainOp(nchwc, 'Conv', [g.domainOp(nchwc, 'ReorderInput', [v.x!], 'xb'), v.w!], 'yb', [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), int('group', padded(c))])], 'y', [int('channels', c)])));
  cases.push(graph(`dw fwd nchwc Conv group W input, blocked in/out ${tag}`, { x: [n, padded(c), h, h], w: [padded(c), 1, 3, 3] }, {}, (g, v) =>
    g.domainOp(nchwc, 'Conv', [v.x!, v.w!], 'y', [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), int('group', padded(c))])));
  // BatchNormalization forward in training mode, given the centred input (the batch variance needs it)
  cases.push(graph(`bn fwd BatchNormalization(x, batch stats) ${tag}`, { x, gamma: [c], beta: [c], mean: [c], variance: [c] }, {}, (g, v) =>
    g.op('BatchNormalization', [v.x!, v.gamma!, v.beta!, v.mean!, g.op('Abs', [v.variance!], 'var')], 'y', [float('epsilon', 1e-3)])));
  cases.push(graph(`bn fwd Mul+Add on centred x ${tag}`, { centred: x, scale: [1, c, 1, 1], shift: [1, c, 1, 1] }, {}, (g, v) =>
    g.op('Add', [g.op('Mul', [v.centred!, v.scale!], 'scaled'), v.shift!], 'y')));
  cases.push(graph(`bn fwd BatchNormalization(centred, mean 0) ${tag}`, { centred: x, gamma: [c], beta: [c], zeros: [c], variance: [c] }, {}, (g, v) =>
    g.op('BatchNormalization', [v.centred!, v.gamma!, v.beta!, v.zeros!, g.op('Abs', [v.variance!], 'var')], 'y', [float('epsilon', 1e-3)])));
  // Depthwise forward
  cases.push(graph(`dw fwd Conv group W input ${tag}`, { x, w: [c, 1, 3, 3] }, {}, (g, v) => g.op('Conv', [v.x!, v.w!], 'y', dw(c))));
  cases.push(graph(`dw fwd Conv group W init ${tag}`, { x }, { w: [c, 1, 3, 3] }, (g, v) => g.op('Conv', [v.x!, v.w!], 'y', dw(c))));
  cases.push(graph(`dw fwd const one-hot patches Conv + MatMul ${tag}`, { x, w: [c, 1, 9] }, {}, (g, v) => {
    const oneHot = new Float32Array(81);
    for (let t = 0; t < 9; t++) oneHot[t * 9 + t] = 1;
    const selector = g.floats(oneHot, [9, 1, 3, 3], 'selector');
    const planes = g.op('Reshape', [v.x!, g.int64s([n * c, 1, h, h])], 'planes');
    const patches = g.op('Conv', [planes, selector], 'patches', [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]);
    const rows = g.op('Reshape', [patches, g.int64s([n, c, 9, h * h])], 'rows');
    return g.op('MatMul', [v.w!, rows], 'y'); // [C,1,9]·[N,C,9,HW] → [N,C,1,HW]
  }));
  cases.push(graph(`dw fwd NHWC 9 taps Slice·Mul+Sum ${tag}`, { x: [n, h, h, c], w: [9, c] }, {}, (g, v) => {
    const padded = g.op('Pad', [v.x!, g.int64s([0, 1, 1, 0, 0, 1, 1, 0])], 'p');
    const terms: string[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      const view = g.op('Slice', [padded, g.int64s([a, b]), g.int64s([a + h, b + h]), g.int64s([1, 2])], 'v');
      const tap = g.op('Gather', [v.w!, g.int64s([a * 3 + b], [])], 'w', [int('axis', 0)]);
      terms.push(g.op('Mul', [view, tap], 'm'));
    }
    return g.op('Sum', terms, 'y');
  }));
  cases.push(graph(`dw fwd NCHW→NHWC Transposes around group Conv ${tag}`, { x: [n, h, h, c], w: [c, 1, 3, 3] }, {}, (g, v) =>
    g.op('Transpose', [g.op('Conv', [g.op('Transpose', [v.x!], 't', perm([0, 3, 1, 2])), v.w!], 'c', dw(c))], 'y', perm([0, 2, 3, 1]))));
  // Depthwise filter gradient
  cases.push(graph(`dw dW groupedConv N·C groups ${tag}`, { x, dy: x }, {}, (g, v) => {
    const xr = g.op('Reshape', [v.x!, g.int64s([1, n * c, h, h])], 'xr');
    const dyr = g.op('Reshape', [v.dy!, g.int64s([n * c, 1, h, h])], 'dyr');
    const conv = g.op('Conv', [xr, dyr], 'c', [ints('kernel_shape', [h, h]), ints('pads', [1, 1, 1, 1]), int('group', n * c)]);
    return g.op('ReduceSum', [g.op('Reshape', [conv, g.int64s([n, c, 1, 3, 3])], 's'), g.int64s([0])], 'y', [int('keepdims', 0)]);
  }));
  cases.push(graph(`dw dW CNHW transposes, Conv C groups ${tag}`, { x, dy: x }, {}, (g, v) => {
    const xr = g.op('Reshape', [g.op('Transpose', [v.x!], 'xt', perm([1, 0, 2, 3])), g.int64s([1, c * n, h, h])], 'xr');
    const dyr = g.op('Transpose', [v.dy!], 'dyt', perm([1, 0, 2, 3])); // [C, N, H, W]: C out channels, N in channels per group
    const conv = g.op('Conv', [xr, dyr], 'c', [ints('kernel_shape', [h, h]), ints('pads', [1, 1, 1, 1]), int('group', c)]);
    return g.op('Reshape', [conv, g.int64s([c, 1, 3, 3])], 'y');
  }));
  cases.push(graph(`dw dW CNHW transposes, 9 slices, MatMul ${tag}`, { x, dy: x }, {}, (g, v) => {
    const padded = g.op('Pad', [g.op('Transpose', [v.x!], 'xt', perm([1, 0, 2, 3])), g.int64s([0, 0, 1, 1, 0, 0, 1, 1])], 'p');
    const taps: string[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      const view = g.op('Slice', [padded, g.int64s([a, b]), g.int64s([a + h, b + h]), g.int64s([2, 3])], 'v');
      taps.push(g.op('Reshape', [view, g.int64s([c, 1, n * h * h])], 'r'));
    }
    const patches = g.op('Concat', taps, 'pt', [int('axis', 1)]);
    const dyc = g.op('Reshape', [g.op('Transpose', [v.dy!], 'dyt', perm([1, 0, 2, 3])), g.int64s([c, n * h * h, 1])], 'dyc');
    return g.op('MatMul', [patches, dyc], 'y');
  }));
  cases.push(graph(`dw dW NCHW taps Mul+ReduceSum(0,2,3) ${tag}`, { x, dy: x }, {}, (g, v) => {
    const padded = g.op('Pad', [v.x!, g.int64s([0, 0, 1, 1, 0, 0, 1, 1])], 'p');
    const taps: string[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      const view = g.op('Slice', [padded, g.int64s([a, b]), g.int64s([a + h, b + h]), g.int64s([2, 3])], 'v');
      taps.push(g.op('ReduceSum', [g.op('Mul', [view, v.dy!], 'm'), g.int64s([0, 2, 3])], 't', [int('keepdims', 1)]));
    }
    return g.op('Concat', taps, 'y', [int('axis', 1)]);
  }));
  cases.push(graph(`dw dW NHWC taps Mul, ReduceSum(0,1,2) ${tag}`, { x: [n, h, h, c], dy: [n, h, h, c] }, {}, (g, v) => {
    const padded = g.op('Pad', [v.x!, g.int64s([0, 1, 1, 0, 0, 1, 1, 0])], 'p');
    const taps: string[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      const view = g.op('Slice', [padded, g.int64s([a, b]), g.int64s([a + h, b + h]), g.int64s([1, 2])], 'v');
      taps.push(g.op('ReduceSum', [g.op('Mul', [view, v.dy!], 'm'), g.int64s([0, 1, 2])], 't', [int('keepdims', 1)]));
    }
    return g.op('Concat', taps, 'y', [int('axis', 0)]);
  }));
}
const selected = cases.filter((c) => c.name.includes(values.only));
const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: Number(values.threads), interOpNumThreads: 1 };
const sessions = [];
for (const c of selected) sessions.push({ ...c, session: await ort.InferenceSession.create(c.bytes, options), times: [] as number[] });
for (let i = 0; i <= Number(values.runs); i++) {
  for (const s of sessions) {
    const start = performance.now();
    await s.session.run(s.feeds);
    if (i > 0) s.times.push(performance.now() - start);
  }
}
console.log(`NCHWc block ${block}; load average ${loadavg()[0]!.toFixed(1)}, threads ${values.threads}, runs ${values.runs} (median ms, min ms)`);
for (const s of sessions) console.log(`${s.name.padEnd(58)} ${median(s.times).toFixed(1).padStart(8)} ${Math.min(...s.times).toFixed(1).padStart(8)}`);
