import type { LayersModel } from '@tensorflow/tfjs-layers';
import { kerasClassName } from '../model/atrous-layers.js';

type Layer = LayersModel['layers'][number];

/** A layer and the group of a Keras 3 `.weights.h5` file that holds its variables. @internal */
export interface Keras3LayerPath {
  layer: Layer;
  /** E.g. `/layers/functional/layers/conv2d_3` (its variables are in `<path>/vars`). */
  path: string;
  /** Whether the layer is a nested model (its variables live in its own layers' groups). */
  nested: boolean;
}

/**
 * The Keras 3 path of every layer of `model`, nested models included, as
 * Keras 3's `saving_lib` names them: `layers/<snake_case of the class>`, with
 * `_1`, `_2`, … for repeats within one model (not the layer names, which
 * Keras considers unreproducible). Sequential models leave out their
 * InputLayer, as Keras 3's `Sequential.layers` does. @internal
 */
export function keras3LayerPaths(model: LayersModel, prefix = ''): Keras3LayerPath[] {
  const counters = new Map<string, number>();
  const paths: Keras3LayerPath[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (model.getClassName() === 'Sequential' && className === 'InputLayer') continue;
    const base = keras3GroupBase(className);
    const n = counters.get(base);
    counters.set(base, n === undefined ? 0 : n + 1);
    const path = `${prefix}/layers/${n === undefined ? base : `${base}_${n + 1}`}`;
    const nested = isModel(layer);
    paths.push({ layer, path, nested });
    if (nested) paths.push(...keras3LayerPaths(layer as unknown as LayersModel, path));
  }
  return paths;
}

/** Whether a layer is itself a model (a nested functional or sequential model). @internal */
export function isModel(layer: Layer): boolean {
  return ['Model', 'Functional', 'Sequential'].includes(layer.getClassName());
}

/** Keras 3's group name for a class: 'SeparableConv2D' → 'separable_conv2d', a nested tfjs model → 'functional'. */
function keras3GroupBase(className: string): string {
  const keras = className === 'Model' ? 'Functional' : kerasClassName(className);
  return keras
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
