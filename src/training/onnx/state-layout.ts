// Training state between tfjs' layout (the model's variables) and the graph's (ONNX tensors).
import { XceptionTrainingError } from '../../errors.js';
import type { StateEntry } from './graph/training-graph.js';

/** The number of elements of a shape. @internal */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Each state entry's starting value in the graph's layout: the model's variables
 * (transposed as the graph expects), optimizer slots at their initial values. @internal
 */
export function initialStateValues(entries: StateEntry[]): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const entry of entries) {
    let data: Float32Array;
    if (entry.variable) {
      const variable = entry.variable;
      data = toOnnxLayout(variable.read().dataSync() as Float32Array, variable.shape as number[], entry);
      if (data.length !== sizeOf(entry.shape)) {
        throw new XceptionTrainingError(`${variable.name}: its value has ${data.length} elements, but the graph's ${entry.input} has shape [${entry.shape}].`);
      }
    } else {
      data = new Float32Array(sizeOf(entry.shape)).fill(entry.initial ?? 0);
    }
    values.set(entry.input, data);
  }
  return values;
}

/** A tfjs value in the graph's layout: transposed by `toOnnx.perm`, then reshaped (a new array). @internal */
export function toOnnxLayout(values: Float32Array, shape: number[], entry: Pick<StateEntry, 'toOnnx'>): Float32Array {
  return entry.toOnnx?.perm ? permute(values, shape, entry.toOnnx.perm) : Float32Array.from(values);
}

/** An ONNX value in tfjs' layout: reshaped by `fromOnnx.reshape`, then transposed by `fromOnnx.perm`. @internal */
export function fromOnnxLayout(values: Float32Array, entry: StateEntry): { data: Float32Array; shape: number[] } {
  const shape = entry.fromOnnx?.reshape ?? entry.shape;
  const perm = entry.fromOnnx?.perm;
  return perm ? { data: permute(values, shape, perm), shape: perm.map((axis) => shape[axis]!) } : { data: Float32Array.from(values), shape: [...shape] };
}

/**
 * Transposes a row-major array of `shape` (rank ≤ 4) by `perm`, as tf.transpose does, in one
 * pass (tfjs' cpu transpose takes seconds for Xception's largest kernels).
 */
function permute(values: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  if (rank > 4 || perm.length !== rank) throw new XceptionTrainingError(`cannot permute a shape [${shape}] by [${perm}].`);
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  // Output axis k walks input axis perm[k]; pad to four axes of size 1 in front.
  const dims = [1, 1, 1, 1];
  const steps = [0, 0, 0, 0];
  perm.forEach((axis, k) => {
    dims[4 - rank + k] = shape[axis]!;
    steps[4 - rank + k] = strides[axis]!;
  });
  const [d0, d1, d2, d3] = dims as [number, number, number, number];
  const [s0, s1, s2, s3] = steps as [number, number, number, number];
  const out = new Float32Array(values.length);
  let o = 0;
  for (let a = 0; a < d0; a++) {
    for (let b = 0; b < d1; b++) {
      for (let c = 0; c < d2; c++) {
        let at = a * s0 + b * s1 + c * s2;
        for (let d = 0; d < d3; d++, at += s3) out[o++] = values[at]!;
      }
    }
  }
  return out;
}
