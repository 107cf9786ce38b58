// Writes Keras 3 model files without Python, from the documented format
// (keras-team/keras: saving_lib, serialization_lib, functional.get_config,
// legacy_h5_format): `.keras` archives (config.json + model.weights.h5 +
// metadata.json) and Keras 3 legacy full-model `.h5` files. The structure
// and weights come from a tfjs model; the Keras 3 JSON is written here, by
// this file's own rules, not by xception-ts' writer.
import { zipSync } from 'fflate';
import h5wasm from 'h5wasm';
import * as tf from '@tensorflow/tfjs';
import { createXception } from '../../src/index.js';

type Json = Record<string, unknown>;
type Layer = tf.layers.Layer;
type H5Group = ReturnType<InstanceType<typeof h5wasm.File>['create_group']>;

const POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const serialized = (module: string, cls: string, config: Json = {}) => ({ module, class_name: cls, config, registered_name: null });
const GLOROT = serialized('keras.initializers', 'GlorotUniform', { seed: null });
const ZEROS = serialized('keras.initializers', 'Zeros');
const ONES = serialized('keras.initializers', 'Ones');
const L2 = serialized('keras.regularizers', 'L2', { l2: 0.01 });

const isModel = (layer: Layer) => ['Model', 'Functional', 'Sequential'].includes(layer.getClassName());

/**
 * The fixture the issue asks for: a functional model whose trunk is a nested
 * functional Xception (the 'tiny' preset, no top), followed by a Sequential
 * head (GlobalAveragePooling2D → Dropout → Dense softmax). Weights, BN
 * statistics included, are random.
 */
export function nestedXceptionModel(seed = 7, channels = 1): tf.LayersModel {
  const trunk = createXception({ preset: 'tiny', includeTop: false, inputShape: [32, 32, channels], name: 'xception' });
  const head = tf.sequential({
    name: 'head',
    layers: [
      tf.layers.globalAveragePooling2d({ inputShape: [2, 2, 64], name: 'gap' }),
      tf.layers.dropout({ rate: 0.3, name: 'head_dropout' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'scores' }),
    ],
  });
  const image = tf.input({ shape: [32, 32, channels], name: 'image' });
  const output = head.apply(trunk.apply(image)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: image, outputs: output, name: 'classifier' });
  model.setWeights(model.weights.map((w, i) =>
    tf.tidy(() =>
      w.originalName.endsWith('moving_variance')
        ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed + i)
        : tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', seed + i))));
  return model;
}

/** Keras 3's config of one layer (not a model), as Keras 3.x serializes it. */
function layerConfig(layer: Layer): { class_name: string; config: Json } {
  const c = layer.getConfig() as Json;
  const base = { name: layer.name, trainable: true, dtype: POLICY };
  const conv = {
    kernel_size: c['kernelSize'], strides: c['strides'], padding: c['padding'], data_format: 'channels_last',
    dilation_rate: c['dilationRate'], activation: c['activation'], use_bias: c['useBias'],
    bias_initializer: ZEROS, bias_regularizer: null, activity_regularizer: null, bias_constraint: null,
  };
  switch (layer.getClassName()) {
    case 'Conv2D':
      return { class_name: 'Conv2D', config: { ...base, ...conv, filters: c['filters'], groups: 1, kernel_initializer: GLOROT, kernel_regularizer: L2, kernel_constraint: null } };
    case 'SeparableConv2D':
      return {
        class_name: 'SeparableConv2D',
        config: {
          ...base, ...conv, filters: c['filters'], depth_multiplier: 1, depthwise_initializer: GLOROT, pointwise_initializer: GLOROT,
          depthwise_regularizer: L2, pointwise_regularizer: L2, depthwise_constraint: null, pointwise_constraint: null,
        },
      };
    case 'BatchNormalization':
      return {
        class_name: 'BatchNormalization',
        config: {
          ...base, axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, beta_initializer: ZEROS, gamma_initializer: ONES,
          moving_mean_initializer: ZEROS, moving_variance_initializer: ONES, beta_regularizer: null, gamma_regularizer: null,
          beta_constraint: null, gamma_constraint: null, synchronized: false,
        },
      };
    case 'Activation':
      return { class_name: 'Activation', config: { ...base, activation: c['activation'] } };
    case 'MaxPooling2D':
      return { class_name: 'MaxPooling2D', config: { ...base, pool_size: c['poolSize'], padding: c['padding'], strides: c['strides'], data_format: 'channels_last' } };
    case 'Add':
      return { class_name: 'Add', config: base };
    case 'GlobalAveragePooling2D':
      return { class_name: 'GlobalAveragePooling2D', config: { ...base, data_format: 'channels_last', keepdims: false } };
    case 'Dropout':
      return { class_name: 'Dropout', config: { ...base, rate: c['rate'], seed: null, noise_shape: null } };
    case 'Dense':
      return {
        class_name: 'Dense',
        config: {
          ...base, units: c['units'], activation: c['activation'], use_bias: true, kernel_initializer: GLOROT, bias_initializer: ZEROS,
          kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null, lora_rank: null,
        },
      };
    default:
      throw new Error(`fixture: no Keras 3 config for ${layer.getClassName()}`);
  }
}

function inputLayer(name: string, batchShape: (number | null)[]): Json {
  return { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: batchShape, dtype: 'float32', sparse: false, ragged: false, name, optional: false }, registered_name: null, name };
}

// Keras 3 numbers a layer's nodes from 0, except that a nested Functional starts with one linking its
// input to its output (functional.get_config: "kept_nodes = 1"); a nested Sequential does not.
const kerasTensor = (layer: Layer, shape: unknown) => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype: 'float32', keras_history: [layer.name, ['Model', 'Functional'].includes(layer.getClassName()) ? 1 : 0, 0] },
});

/** `get_config()` of a functional or sequential Keras 3 model, with the `module`/`registered_name` wrapper. */
export function keras3ModelConfig(model: tf.LayersModel): Json {
  if (model.getClassName() === 'Sequential') {
    const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
    const batchShape = layers[0]!.batchInputShape ?? (model.inputs[0]!.shape as (number | null)[]);
    return {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: model.name, trainable: true, dtype: POLICY,
        layers: [inputLayer(`${model.name}_input`, batchShape as (number | null)[]), ...layers.map((l) => ({ module: 'keras.layers', ...layerConfig(l), registered_name: null }))],
      },
      build_config: { input_shape: batchShape },
    };
  }
  const layers = model.layers.map((layer): Json => {
    if (layer.getClassName() === 'InputLayer') return { ...inputLayer(layer.name, layer.batchInputShape as (number | null)[]), inbound_nodes: [] };
    const entry = isModel(layer)
      ? { ...keras3ModelConfig(layer as unknown as tf.LayersModel), module: layer.getClassName() === 'Sequential' ? 'keras' : 'keras.src.models.functional' }
      : { module: 'keras.layers', ...layerConfig(layer), registered_name: null };
    // The node of this layer inside `model` (a nested model's node 0 is its own construction).
    const node = layer.inboundNodes.find((n) => n.inboundLayers.every((l) => model.layers.includes(l)) && n.inboundLayers.length > 0)!;
    const tensors = node.inboundLayers.map((inbound, i) => kerasTensor(inbound, node.inputTensors[i]!.shape));
    return { ...entry, name: layer.name, inbound_nodes: [{ args: tensors.length === 1 ? tensors : [tensors], kwargs: {} }] };
  });
  return {
    module: 'keras', class_name: 'Functional', registered_name: 'Functional',
    config: {
      name: model.name, trainable: true, layers,
      input_layers: [[model.inputLayers[0]!.name, 0, 0]],
      output_layers: [[model.outputLayers[0]!.name, ['Model', 'Functional'].includes(model.outputLayers[0]!.getClassName()) ? 1 : 0, 0]],
    },
    build_config: { input_shape: model.inputs[0]!.shape },
    compile_config: { optimizer: 'adam', loss: 'categorical_crossentropy', metrics: null },
  };
}

async function writeH5(fill: (file: InstanceType<typeof h5wasm.File>) => void): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const path = `/fixture-${Math.random().toString(36).slice(2)}.h5`;
  const file = new h5wasm.File(path, 'w');
  try {
    fill(file);
  } finally {
    file.close();
  }
  const bytes = FS.readFile(path) as Uint8Array;
  FS.unlink(path);
  return bytes.slice();
}

function group(root: H5Group | InstanceType<typeof h5wasm.File>, path: string): H5Group {
  let g = root as H5Group;
  for (const part of path.split('/').filter(Boolean)) g = (g.get(part) as H5Group | null) ?? g.create_group(part);
  return g;
}

/** Keras 3's saving_lib paths: `layers/<snake_case class>[_n]` per model, counted in `model.layers` order. */
function writeKeras3Vars(root: InstanceType<typeof h5wasm.File>, model: tf.LayersModel, prefix: string): void {
  const used = new Map<string, number>();
  for (const layer of model.layers) {
    if (model.getClassName() === 'Sequential' && layer.getClassName() === 'InputLayer') continue;
    const cls = layer.getClassName() === 'Model' ? 'Functional' : layer.getClassName();
    let name = cls.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
    const n = used.get(name);
    used.set(name, n === undefined ? 0 : n + 1);
    if (n !== undefined) name = `${name}_${n + 1}`;
    const path = `${prefix}/layers/${name}`;
    const vars = group(root, `${path}/vars`);
    if (isModel(layer)) {
      writeKeras3Vars(root, layer as unknown as tf.LayersModel, path);
      continue;
    }
    layer.getWeights().forEach((value, i) => {
      vars.create_dataset({ name: String(i), data: value.dataSync() as Float32Array, shape: value.shape, dtype: '<f' });
    });
  }
}

/** A `.keras` archive of `model`, optionally with members left out, replaced or an optimizer's state added. */
export async function writeKerasArchive(
  model: tf.LayersModel,
  options: { omit?: string[]; replace?: Record<string, Uint8Array>; keras_version?: string } = {},
): Promise<Uint8Array> {
  const weights = await writeH5((file) => {
    file.create_group('vars');
    writeKeras3Vars(file, model, '');
    // Optimizer state, which a loader must ignore.
    group(file, 'optimizer/vars').create_dataset({ name: '0', data: new Float32Array([42]), shape: [], dtype: '<f' });
  });
  const encoder = new TextEncoder();
  const members: Record<string, Uint8Array> = {
    'metadata.json': encoder.encode(JSON.stringify({ keras_version: options.keras_version ?? '3.8.0', date_saved: '2026-12-01@10:00:00' })),
    'config.json': encoder.encode(JSON.stringify(keras3ModelConfig(model))),
    'model.weights.h5': weights,
    ...options.replace,
  };
  for (const name of options.omit ?? []) delete members[name];
  return zipSync(members);
}

/** A Keras 3 legacy full-model `.h5` (`model.save('x.h5')` in Keras 3): Keras 3 config, Keras 2 weight layout without `:0`. */
export async function writeKeras3LegacyH5(model: tf.LayersModel): Promise<Uint8Array> {
  return writeH5((file) => {
    file.create_attribute('keras_version', '3.8.0');
    file.create_attribute('backend', 'jax');
    file.create_attribute('model_config', JSON.stringify(keras3ModelConfig(model)));
    const weightsRoot = file.create_group('model_weights');
    weightsRoot.create_attribute('layer_names', model.layers.map((l) => l.name));
    weightsRoot.create_attribute('backend', 'jax');
    weightsRoot.create_attribute('keras_version', '3.8.0');
    for (const layer of [...model.layers].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const g = weightsRoot.create_group(layer.name);
      const values = layer.getWeights();
      if (values.length === 0) {
        g.create_attribute('weight_names', new Float64Array(0), [0], '<d');
        continue;
      }
      const names = layer.weights.map((w) => `${layer.name}/${w.originalName}`);
      g.create_attribute('weight_names', names);
      names.forEach((name, i) => {
        const parts = name.split('/');
        group(g, parts.slice(0, -1).join('/')).create_dataset({ name: parts.at(-1)!, data: values[i]!.dataSync() as Float32Array, shape: values[i]!.shape, dtype: '<f' });
      });
    }
  });
}
