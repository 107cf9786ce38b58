import { layers } from '@tensorflow/tfjs-layers';
import { XceptionModelFileError } from '../errors.js';

type AddWeight = (this: { name: string }, name: string, shape: number[], ...rest: unknown[]) => unknown;

/**
 * Runs `build` (which must create layers synchronously, as
 * `models.modelFromJSON` does before its first `await`) with every
 * `addWeight` of a TensorFlow.js layer counted against `maxParameters`: a
 * weight that would pass the budget is refused with a typed error naming the
 * layer, before its initializer allocates anything. The count sees only this
 * call: it is installed and removed within one synchronous stretch. @internal
 */
export function withParameterBudget<T>(maxParameters: number, label: string, build: () => T): T {
  const proto = layers.Layer.prototype as unknown as { addWeight: AddWeight };
  const addWeight = proto.addWeight;
  let total = 0;
  proto.addWeight = function (this: { name: string }, name: string, shape: number[], ...rest: unknown[]) {
    const size = Array.isArray(shape) ? shape.reduce((n, d) => n * (Number.isFinite(d) && d > 0 ? d : 0), 1) : 0;
    total += size;
    if (!(total <= maxParameters)) {
      throw new XceptionModelFileError(
        `${label}: layer '${this.name}' declares a weight '${name}' of shape [${shape.join(', ')}] (${size} values), ` +
          `which takes the model to ${total} parameters, above maxParameters (${maxParameters}); ` +
          'refusing to allocate it (raise maxParameters for a model this large).',
      );
    }
    return addWeight.call(this, name, shape, ...rest);
  };
  try {
    return build();
  } finally {
    proto.addWeight = addWeight;
  }
}
