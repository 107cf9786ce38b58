import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';

/**
 * Which of a model's variables a training step changes and which it only reads,
 * shared by the training and the evaluation graph (they must agree: a frozen
 * variable is a constant of both) and by the trainer (which rebuilds its
 * sessions when the split changes). Internal.
 */

type Layer = LayersModel['layers'][number];

/** The split of a model's variables between training and frozen. */
export interface TrainingSplit {
  /** `model.trainableWeights`: updated by the optimizer. */
  trainable: Set<LayerVariable>;
  /**
   * Variables no step changes: every weight of a frozen layer (its BatchNormalization
   * runs in inference mode, so its moving statistics stay) and any other parameter
   * that is not trainable. The graphs hold them as initializers.
   */
  frozen: Set<LayerVariable>;
  /** Layers that run as frozen (BatchNormalization in inference mode, as Keras 2+). */
  frozenLayers: Set<Layer>;
  /** A string that changes exactly when `trainable` or `frozen` does (variable ids). */
  key: string;
}

const MOVING_STATISTIC = /moving_(mean|variance)$/;

/** The current split of `model`'s variables (reads `trainable` flags; cheap enough for every step). */
export function trainingSplit(model: LayersModel): TrainingSplit {
  const trainable = new Set<LayerVariable>(model.trainableWeights);
  const frozen = new Set<LayerVariable>();
  const frozenLayers = new Set<Layer>();
  for (const layer of model.layers) {
    const layerFrozen = isFrozen(layer, trainable);
    if (layerFrozen) frozenLayers.add(layer);
    for (const variable of layer.weights) {
      if (trainable.has(variable)) continue;
      if (layerFrozen || !MOVING_STATISTIC.test(variable.originalName)) frozen.add(variable);
    }
  }
  const ids = (set: Set<LayerVariable>) => [...set].map((v) => v.id).sort((a, b) => a - b).join(',');
  return { trainable, frozen, frozenLayers, key: `${ids(trainable)}|${ids(frozen)}` };
}

/** A layer is frozen when it (or its model) is not trainable, or none of its trainable-kind weights is trained. */
function isFrozen(layer: Layer, trainable: Set<LayerVariable>): boolean {
  if (!layer.trainable) return true;
  const parameters = layer.weights.filter((w) => !MOVING_STATISTIC.test(w.originalName));
  return parameters.length > 0 && !parameters.some((w) => trainable.has(w));
}
