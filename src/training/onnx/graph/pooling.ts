import type { DifferentiableGraph, Value } from './differentiable-graph.js';
import { int, ints, str } from './graph-writer.js';
import type { WindowGeometry } from './conv-gradients.js';

/**
 * Max pooling (gradient through MaxPool's Indices output and one
 * ScatterElements with reduction 'add', so that a pixel shared by
 * overlapping windows gets every window's gradient) and global average /
 * max pooling to [N, C]. Internal.
 */

export function maxPool(d: DifferentiableGraph, x: Value, geometry: WindowGeometry, hint: string, training: boolean): Value {
  const { g } = d;
  const attrs = [ints('kernel_shape', geometry.kernel), ints('strides', geometry.strides), ints('pads', geometry.pads)];
  const shape = [x.shape[0]!, x.shape[1]!, geometry.outHeight, geometry.outWidth];
  if (!training || !d.needsGradient(x)) return { name: g.op('MaxPool', [x.name], hint, attrs), shape };
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
