// Writes Keras-layout HDF5 weight files with h5wasm (no Python), from a tfjs
// model's current weights, in every layout xception-ts must read
// (../shared/reference/README.md, "Official ImageNet weight files").
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import type * as tf from '@tensorflow/tfjs';

export type KerasLayout = 'keras1' | 'keras2' | 'tfkeras' | 'fullmodel' | 'chunked' | 'nosuffix' | 'keras3';
export const KERAS_LAYOUTS: KerasLayout[] = ['keras1', 'keras2', 'tfkeras', 'fullmodel', 'chunked', 'nosuffix', 'keras3'];

const KERAS1_CLASS: Record<string, string> = {
  Conv2D: 'convolution2d', SeparableConv2D: 'separableconvolution2d', BatchNormalization: 'batchnormalization',
  Dense: 'dense', Activation: 'activation', MaxPooling2D: 'maxpooling2d', Add: 'merge', InputLayer: 'input',
  GlobalAveragePooling2D: 'globalaveragepooling2d', GlobalMaxPooling2D: 'globalmaxpooling2d', Dropout: 'dropout',
  DepthwiseConv2D: 'depthwiseconvolution2d',
};
const KERAS1_WEIGHTS: Record<string, string[]> = {
  Conv2D: ['W'], SeparableConv2D: ['depthwise_kernel', 'pointwise_kernel'], Dense: ['W', 'b'],
  BatchNormalization: ['gamma', 'beta', 'running_mean', 'running_std'], DepthwiseConv2D: ['depthwise_kernel'],
};

let counter = 0;

/** Writes `model`'s weights in `layout` and returns the file's bytes. */
export async function writeKerasWeights(model: tf.LayersModel, layout: KerasLayout): Promise<Uint8Array> {
  await h5wasm.ready;
  const path = join(tmpdir(), `xception-ts-fixture-${process.pid}-${counter++}.h5`);
  const file = new h5wasm.File(path, 'w');
  try {
    if (layout === 'keras3') writeKeras3(file, model);
    else writeKeras2(file, model, layout);
  } finally {
    file.close();
  }
  const bytes = new Uint8Array(readFileSync(path));
  rmSync(path);
  return bytes;
}

type H5Group = ReturnType<InstanceType<typeof h5wasm.File>['create_group']>;

function writeKeras2(file: InstanceType<typeof h5wasm.File>, model: tf.LayersModel, layout: KerasLayout): void {
  // h5py 2 wrote fixed-length NUL-padded strings (the official files), h5py 3 variable-length ones.
  const fixed = layout === 'keras1';
  const setStrings = (group: H5Group | InstanceType<typeof h5wasm.File>, name: string, values: string[]) =>
    group.create_attribute(name, values, null, fixed ? `S${Math.max(1, ...values.map((v) => v.length + 3))}` : null);
  let root: H5Group | InstanceType<typeof h5wasm.File> = file;
  if (layout === 'fullmodel') {
    file.create_attribute('model_config', JSON.stringify({ class_name: 'Functional', config: { name: model.name } }));
    root = file.create_group('model_weights');
  }
  const counters = new Map<string, number>();
  const layers = model.layers.map((layer) => {
    const cls = layer.getClassName();
    if (layout !== 'keras1') return { layer, name: layer.name };
    const base = KERAS1_CLASS[cls] ?? cls.toLowerCase();
    const n = (counters.get(base) ?? 0) + 1;
    counters.set(base, n);
    return { layer, name: `${base}_${n}` };
  });
  const names = layers.map((l) => l.name);
  if (layout === 'chunked') {
    const size = Math.ceil(names.length / 3);
    for (let i = 0; i * size < names.length; i++) setStrings(root, `layer_names${i}`, names.slice(i * size, (i + 1) * size));
  } else {
    setStrings(root, 'layer_names', names);
  }
  if (layout !== 'keras1') {
    root.create_attribute('backend', 'tensorflow');
    root.create_attribute('keras_version', layout === 'nosuffix' ? '3.3.3' : '2.4.0');
  }
  const order = layout === 'tfkeras' ? [...layers].sort((a, b) => (a.name < b.name ? -1 : 1)) : layers;
  for (const { layer, name } of order) {
    const group = root.create_group(name);
    const values = layer.getWeights();
    const short = layer.weights.map((w) => w.originalName.slice(w.originalName.lastIndexOf('/') + 1));
    const weightNames =
      layout === 'keras1'
        ? (KERAS1_WEIGHTS[layer.getClassName()] ?? short).map((s) => `${name}_${s}:0`)
        : short.map((s) => `${name}/${s}${layout === 'nosuffix' ? '' : ':0'}`);
    if (values.length === 0) {
      group.create_attribute('weight_names', new Float64Array(0), [0], '<d');
      continue;
    }
    setStrings(group, 'weight_names', weightNames);
    weightNames.forEach((weightName, i) => {
      const parts = weightName.split('/');
      let parent: H5Group = group;
      for (const part of parts.slice(0, -1)) parent = (parent.get(part) as H5Group | null) ?? parent.create_group(part);
      parent.create_dataset({ name: parts.at(-1)!, data: values[i]!.dataSync() as Float32Array, shape: values[i]!.shape, dtype: '<f' });
    });
  }
  if (layout === 'tfkeras') root.create_group('top_level_model_weights').create_attribute('weight_names', new Float64Array(0), [0], '<d');
}

function writeKeras3(file: InstanceType<typeof h5wasm.File>, model: tf.LayersModel): void {
  file.create_attribute('date_saved', '2026-11-27@00:00:00');
  const layersGroup = file.create_group('layers');
  const counters = new Map<string, number>();
  for (const layer of model.layers) {
    const base = layer
      .getClassName()
      .replace(/^XceptionAtrous/, '')
      .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toLowerCase();
    const n = counters.get(base);
    counters.set(base, n === undefined ? 0 : n + 1);
    const group = layersGroup.create_group(n === undefined ? base : `${base}_${n + 1}`);
    const vars = group.create_group('vars');
    vars.create_attribute('name', layer.name);
    layer.getWeights().forEach((value, i) => {
      vars.create_dataset({ name: String(i), data: value.dataSync() as Float32Array, shape: value.shape, dtype: '<f' });
    });
  }
  file.create_group('vars');
}
