import type { layers } from '@tensorflow/tfjs-layers';

type Layer = InstanceType<typeof layers.Layer>;

/** Layers created inside each open {@link buildScope}, innermost last. */
const openScopes: Layer[][] = [];

/**
 * Records a layer in the innermost open {@link buildScope}, so that its
 * weights are disposed if the build fails. Outside a scope it does nothing.
 *
 * @param layer - A freshly created layer.
 * @returns The same layer.
 * @internal
 */
export function track<L extends Layer>(layer: L): L {
  openScopes[openScopes.length - 1]?.push(layer);
  return layer;
}

/**
 * Runs `build` and, if it throws, disposes the weights of every layer that it
 * created through {@link track}, so that a failed build leaves no tensor
 * behind. On success the layers are handed to the enclosing scope, if any.
 *
 * @param build - Graph-building code, synchronous.
 * @returns What `build` returned.
 * @internal
 */
export function buildScope<T>(build: () => T): T {
  const created: Layer[] = [];
  openScopes.push(created);
  let result: T;
  try {
    result = build();
  } catch (error) {
    openScopes.pop();
    for (const layer of created) {
      for (const weight of layer.weights) weight.dispose();
    }
    throw error;
  }
  openScopes.pop();
  openScopes[openScopes.length - 1]?.push(...created);
  return result;
}
