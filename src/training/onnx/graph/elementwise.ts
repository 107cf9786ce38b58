import type { DifferentiableGraph, Value } from './differentiable-graph.js';
import { FLOAT, int, ints } from './graph-writer.js';

/** ReLU, Add, a dropout mask and symmetric zero padding, with their gradients. Internal. */

/**
 * How the ReLU gradient keeps dy where the output is positive: 'where'
 * Where(y > 0, dy, 0); 'mask' dy · Cast(y > 0) (ONNX Runtime's Mul is
 * vectorized, its Where with a broadcast scalar is not; see
 * bench/parts/onnx-op-variants.ts).
 */
export type ReluGradient = 'where' | 'mask';

/** ReLU; its gradient passes where the output is positive (tfjs: dy·step(x)). */
export function relu(d: DifferentiableGraph, x: Value, hint: string, gradient: ReluGradient = 'where'): Value {
  const { g } = d;
  const y: Value = { name: g.op('Relu', [x.name], hint), shape: x.shape };
  d.record(y, [x], [], (dy) => {
    const positive = g.op('Greater', [y.name, g.scalar(0)], `${hint}/positive`);
    d.addGradient(
      x,
      gradient === 'mask'
        ? g.op('Mul', [dy, g.op('Cast', [positive], `${hint}/positive_mask`, [int('to', FLOAT)])], `${hint}/input_grad`)
        : g.op('Where', [positive, dy, g.scalar(0)], `${hint}/input_grad`),
    );
  });
  return y;
}

/** The element-wise sum of values of one shape; each gets the output's gradient. */
export function add(d: DifferentiableGraph, inputs: Value[], hint: string): Value {
  const y: Value = { name: d.g.sum(inputs.map((x) => x.name), hint), shape: inputs[0]!.shape };
  d.record(y, inputs, [], (dy) => {
    for (const x of inputs) if (d.needsGradient(x)) d.addGradient(x, dy);
  });
  return y;
}

/** Multiplies by a fed mask (dropout: 0 or 1/(1 − rate)); the gradient is multiplied by it too. */
export function multiplyByMask(d: DifferentiableGraph, x: Value, mask: string, hint: string): Value {
  const { g } = d;
  const y: Value = { name: g.op('Mul', [x.name, mask], hint), shape: x.shape };
  d.record(y, [x], [], (dy) => d.addGradient(x, g.op('Mul', [dy, mask], `${hint}/input_grad`)));
  return y;
}

/** Zero padding of an NCHW value by [top, bottom, left, right]; the gradient is the unpadded slice. */
export function zeroPad(d: DifferentiableGraph, x: Value, padding: [number, number, number, number], hint: string): Value {
  const { g } = d;
  const [top, bottom, left, right] = padding;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const y: Value = {
    name: g.op('Pad', [x.name, g.int64s([0, 0, top, left, 0, 0, bottom, right])], hint),
    shape: [n, c, h + top + bottom, w + left + right],
  };
  d.record(y, [x], [], (dy) => {
    d.addGradient(x, g.op('Slice', [dy, g.int64s([top, left]), g.int64s([top + h, left + w]), g.int64s([2, 3])], `${hint}/input_grad`));
  });
  return y;
}

/** NHWC → NCHW (the images input) and back. */
export function transposeToNchw(d: DifferentiableGraph, nhwc: string, shape: number[], hint: string): Value {
  const [n, h, w, c] = shape as [number, number, number, number];
  return { name: d.g.op('Transpose', [nhwc], hint, [ints('perm', [0, 3, 1, 2])]), shape: [n, c, h, w] };
}
