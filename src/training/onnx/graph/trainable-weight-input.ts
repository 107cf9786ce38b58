import type { GraphWriter } from './graph-writer.js';
import type { StateEntry } from './training-graph.js';

/**
 * A trainable weight as a graph input of the training and evaluation graphs (they must agree):
 * one row, [1, size], the shape its optimizer update (one Gemm per term) writes, so the update
 * writes the graph output itself; a Reshape (a view) gives the layers their `shape`. Declared
 * with the ONNX shape, the update's result needed a copy into the output — 23 M values, three
 * times over with Adam's moments, for Keras Xception. Internal.
 *
 * @returns `value`, the weight in `shape` for the layers, and the state entry's layout fields
 *   (`fromOnnx.reshape` restores `shape` before any transpose back to tfjs' layout).
 */
export function trainableWeightInput(
  g: GraphWriter,
  name: string,
  shape: readonly number[],
  layout: Pick<StateEntry, 'toOnnx' | 'fromOnnx'>,
): { value: string; entry: Pick<StateEntry, 'input' | 'shape' | 'toOnnx' | 'fromOnnx'> } {
  const size = shape.reduce((a, b) => a * b, 1);
  const input = g.input(name, [1, size]);
  const value = g.op('Reshape', [input, g.int64s(shape)], `${name}/weight`);
  return {
    value,
    entry: {
      input,
      shape: [1, size],
      ...(layout.toOnnx ? { toOnnx: layout.toOnnx } : {}),
      fromOnnx: { ...layout.fromOnnx, reshape: layout.fromOnnx?.reshape ?? [...shape] },
    },
  };
}
