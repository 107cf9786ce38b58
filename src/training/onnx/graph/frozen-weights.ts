import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { XceptionTrainingError } from '../../../errors.js';
import { sizeOf, toOnnxLayout } from '../state-layout.js';
import type { GraphWriter } from './graph-writer.js';
import type { FrozenWeight, StateEntry } from './training-graph.js';

/**
 * Writes a frozen variable (see `trainingSplit`) as an initializer holding the
 * model's current value in the graph's layout (`toOnnx`: transposed as the
 * state entry of a trained weight would be). Internal.
 */
export function writeFrozenWeight(g: GraphWriter, variable: LayerVariable, shape: number[], layout: Pick<StateEntry, 'toOnnx'>): FrozenWeight {
  const data = toOnnxLayout(variable.read().dataSync() as Float32Array, variable.shape as number[], layout);
  if (data.length !== sizeOf(shape)) {
    throw new XceptionTrainingError(`${variable.name}: its value has ${data.length} elements, but the graph reads it with shape [${shape}].`);
  }
  return { name: g.initializer(variable.name, data, shape), shape, variable };
}
