import type { LayersModel } from '@tensorflow/tfjs-layers';

type Layer = LayersModel['layers'][number];
type Call = Layer['call'];

const patched = new WeakSet<Layer>();

/** Whether a layer is a BatchNormalization. @internal */
export function isBatchNorm(layer: Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}

/**
 * Makes a BatchNormalization follow Keras' rule: while the layer is frozen
 * (`trainable === false`) it runs in inference mode, with its moving
 * statistics, also inside `fit`, and leaves them unchanged. tfjs 4.22 would
 * otherwise normalise with the batch's statistics and update the moving ones
 * whenever `training` is true, frozen or not. The override sits on the layer
 * instance (its `call`), so the model's saved form is unchanged; calling
 * this twice does nothing more. @internal
 */
export function followKerasFreezeRule(layer: Layer): void {
  if (patched.has(layer)) return;
  patched.add(layer);
  const call: Call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => call(inputs, layer.trainable ? kwargs : { ...kwargs, training: false });
}
