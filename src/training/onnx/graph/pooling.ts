import type { DifferentiableGraph, Value } from './differentiable-graph.js';
import { FLOAT, int, ints, str } from './graph-writer.js';
import { transposedConv, type WindowGeometry } from './conv-gradients.js';

/**
 * Max pooling and global average / max pooling to [N, C]. Internal.
 *
 * The max-pool gradient needs no Indices output (which ONNX Runtime's WebGPU provider lacks) and
 * no ScatterElements: the k×k taps of every window are strided Slices of the input padded with
 * −∞, stacked on a new axis; the first tap (in row-major window order) that equals the window's
 * maximum takes the window's gradient, as tfjs' and TensorFlow's MaxPoolGrad send it on ties
 * (a cumulative sum over the tap axis finds it); a grouped ConvTranspose whose one-hot kernels
 * put each tap back at its offset sums the windows' gradients per input pixel, so a pixel shared by
 * overlapping windows gets every window's share.
 */

export function maxPool(d: DifferentiableGraph, x: Value, geometry: WindowGeometry, hint: string, training: boolean, gradient: 'indices' | 'taps'): Value {
  const { g } = d;
  const attrs = [ints('kernel_shape', geometry.kernel), ints('strides', geometry.strides), ints('pads', geometry.pads)];
  const shape = [x.shape[0]!, x.shape[1]!, geometry.outHeight, geometry.outWidth];
  if (!training || !d.needsGradient(x)) return { name: g.op('MaxPool', [x.name], hint, attrs), shape };
  if (gradient === 'indices') {
    // MaxPool's Indices (flat positions in x) and one ScatterElements with reduction 'add', so that a
    // pixel shared by overlapping windows gets every window's gradient.
    const [name, indices] = g.opN('MaxPool', [x.name], [hint, `${hint}/indices`], attrs);
    const y: Value = { name: name!, shape };
    d.record(y, [x], [], (dy) => {
      const size = x.shape.reduce((n, s) => n * s, 1);
      const zeros = g.op('ConstantOfShape', [g.int64s([size])], `${hint}/zeros`);
      const flatIndices = g.op('Reshape', [indices!, g.int64s([-1])], `${hint}/flat_indices`);
      const flatDy = g.op('Reshape', [dy, g.int64s([-1])], `${hint}/flat_dy`);
      const scattered = g.op('ScatterElements', [zeros, flatIndices, flatDy], `${hint}/scattered`, [int('axis', 0), str('reduction', 'add')]);
      d.addGradient(x, g.op('Reshape', [scattered, g.int64s(x.shape)], `${hint}/input_grad`));
    });
    return y;
  }
  const y: Value = { name: g.op('MaxPool', [x.name], hint, attrs), shape };
  d.record(y, [x], [], (dy) => d.addGradient(x, maxPoolInputGradient(d, x, y.name, dy, geometry, hint)));
  return y;
}

/** dx of a max pool: each window's gradient at its first maximal tap, summed per pixel. */
function maxPoolInputGradient(d: DifferentiableGraph, x: Value, y: string, dy: string, geometry: WindowGeometry, hint: string): string {
  const { g } = d;
  const [n, channels] = x.shape as [number, number];
  const { kernel, strides, outHeight, outWidth } = geometry;
  const [top, left, bottom, right] = geometry.pads;
  const taps = kernel[0] * kernel[1];
  const padded = g.op('Pad', [x.name, g.int64s([0, 0, top, left, 0, 0, bottom, right]), g.scalar(-Infinity)], `${hint}/grad_padded`);
  const windows: string[] = [];
  for (let i = 0; i < kernel[0]; i++) {
    for (let j = 0; j < kernel[1]; j++) {
      const ends = [i + (outHeight - 1) * strides[0] + 1, j + (outWidth - 1) * strides[1] + 1];
      const tap = g.op('Slice', [padded, g.int64s([i, j]), g.int64s(ends), g.int64s([2, 3]), g.int64s(strides)], `${hint}/grad_tap`);
      windows.push(g.op('Unsqueeze', [tap, g.int64s([1])], `${hint}/grad_tap_b`));
    }
  }
  // [N, taps, C, OH, OW]: every window's inputs, tap by tap.
  const stacked = g.op('Concat', windows, `${hint}/grad_taps`, [int('axis', 1)]);
  const y5 = g.op('Unsqueeze', [y, g.int64s([1])], `${hint}/grad_max`);
  const isMax = g.op('Cast', [g.op('Equal', [stacked, y5], `${hint}/grad_is_max`)], `${hint}/grad_is_max_f`, [int('to', FLOAT)]);
  const seen = g.op('CumSum', [isMax, g.int64s([1], [])], `${hint}/grad_max_count`);
  const firstMax = g.op('Mul', [isMax, g.op('Cast', [g.op('Equal', [seen, g.scalar(1)], `${hint}/grad_first`)], `${hint}/grad_first_f`, [int('to', FLOAT)])], `${hint}/grad_first_max`);
  const routed = g.op('Mul', [firstMax, g.op('Unsqueeze', [dy, g.int64s([1])], `${hint}/grad_dy`)], `${hint}/grad_routed`);
  // [N, C·taps, OH, OW], channel-major, for a ConvTranspose with one group per channel.
  const grouped = g.op('Reshape', [g.op('Transpose', [routed], `${hint}/grad_by_channel`, [ints('perm', [0, 2, 1, 3, 4])]), g.int64s([n, channels * taps, outHeight, outWidth])], `${hint}/grad_grouped`);
  const oneHot = new Float32Array(channels * taps * taps);
  for (let c = 0; c < channels; c++) for (let t = 0; t < taps; t++) oneHot[(c * taps + t) * taps + t] = 1;
  const placement = g.floats(oneHot, [channels * taps, 1, kernel[0], kernel[1]], `${hint}/grad_placement`);
  return transposedConv(d, grouped, placement, geometry, channels, hint);
}

/** Global average or max pooling of NCHW to [N, C]. The max gradient goes to every maximal pixel, as tfjs' `tf.max`. */
export function globalPool(d: DifferentiableGraph, x: Value, kind: 'avg' | 'max', hint: string): Value {
  const { g } = d;
  const [n, channels, height, width] = x.shape as [number, number, number, number];
  const pooled = g.op(kind === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${hint}/pool`);
  const y: Value = { name: g.op('Reshape', [pooled, g.int64s([n, channels])], hint), shape: [n, channels] };
  d.record(y, [x], [], (dy) => {
    const dy4 = g.op('Reshape', [dy, g.int64s([n, channels, 1, 1])], `${hint}/dy_b`);
    if (kind === 'avg') {
      const scaled = g.op('Mul', [dy4, g.scalar(1 / (height * width))], `${hint}/dy_mean`);
      d.addGradient(x, g.op('Expand', [scaled, g.int64s(x.shape)], `${hint}/input_grad`));
    } else {
      const mask = g.op('Cast', [g.op('Equal', [x.name, pooled], `${hint}/is_max`)], `${hint}/max_mask`, [int('to', 1)]);
      d.addGradient(x, g.op('Mul', [mask, dy4], `${hint}/input_grad`));
    }
  });
  return y;
}
