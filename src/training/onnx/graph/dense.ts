import type { DifferentiableGraph, Value, Weight } from './differentiable-graph.js';
import { int } from './graph-writer.js';

/** A dense layer on [N, in]: Gemm with the [in, out] kernel; gradients as Gemms with transposes. Internal. */
export function dense(d: DifferentiableGraph, x: Value, kernel: Weight, bias: Weight | null, hint: string): Value {
  const { g } = d;
  const y: Value = { name: g.op('Gemm', [x.name, kernel.name, ...(bias ? [bias.name] : [])], hint), shape: [x.shape[0]!, kernel.shape[1]!] };
  d.record(y, [x], [kernel, bias], (dy) => {
    if (kernel.trainable) d.setWeightGradient(kernel, g.op('Gemm', [x.name, dy], `${hint}/kernel_grad`, [int('transA', 1)]));
    if (bias?.trainable) d.setWeightGradient(bias, g.op('ReduceSum', [dy, g.int64s([0])], `${hint}/bias_grad`, [int('keepdims', 0)]));
    if (d.needsGradient(x)) d.addGradient(x, g.op('Gemm', [dy, kernel.name], `${hint}/input_grad`, [int('transB', 1)]));
  });
  return y;
}
