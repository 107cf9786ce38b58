import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { XceptionConfigError } from './errors.js';
import { show } from './model/validation.js';

/*
 * Checks of the tensors and models handed to public entry points
 * (preprocessInput, decodePredictions, optimizeForInference, exportOnnx).
 * Each throws an XceptionConfigError that names the argument, says what it
 * got and what is expected, before anything is computed. Structural, so that
 * a second copy of TensorFlow.js in an app does not fail an `instanceof`.
 */

/** `null`, `undefined`, a primitive or an object's class, for a message. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : show(value);
  }
  return `${typeof value} ${show(value)}`;
}

/** Requires a live tf.Tensor (not disposed). */
export function requireTensor(what: string, value: unknown): Tensor {
  const tensor = value as Partial<Tensor> | null | undefined;
  if (
    tensor === null ||
    typeof tensor !== 'object' ||
    !Array.isArray(tensor.shape) ||
    typeof tensor.dtype !== 'string' ||
    typeof tensor.dataSync !== 'function'
  ) {
    throw new XceptionConfigError(`${what} must be a tf.Tensor; got ${describe(value)}.`);
  }
  if (tensor.isDisposed) {
    throw new XceptionConfigError(`${what} is a tf.Tensor that has been disposed; pass a live tensor.`);
  }
  return value as Tensor;
}

/** Requires a tf.LayersModel whose weights have not been disposed. */
export function requireLayersModel(what: string, value: unknown): LayersModel {
  const model = value as Partial<LayersModel> | null | undefined;
  if (
    model === null ||
    typeof model !== 'object' ||
    !Array.isArray(model.layers) ||
    !Array.isArray(model.inputs) ||
    !Array.isArray(model.outputs)
  ) {
    throw new XceptionConfigError(`${what} must be a tf.LayersModel (e.g. from createXception or tf.model); got ${describe(value)}.`);
  }
  if (isDisposedModel(value as LayersModel)) {
    throw new XceptionConfigError(`${what} '${String(model.name)}' has been disposed (its weights were freed); pass a live model.`);
  }
  return value as LayersModel;
}

/**
 * Whether `model.dispose()` has freed the model's weights (a LayersVariable
 * keeps its tf.Variable in `val`, which dispose() frees; tfjs-layers 4.x). @internal
 */
export function isDisposedModel(model: LayersModel): boolean {
  return model.layers.some((layer) => layer.weights.some((w) => (w as unknown as { val?: Tensor }).val?.isDisposed === true));
}
