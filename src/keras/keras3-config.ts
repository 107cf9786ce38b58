import type { LayersModel } from '@tensorflow/tfjs-layers';
import { kerasClassName } from '../model/atrous-layers.js';
import type { KerasJson } from './keras-config.js';

/*
 * The way back: a tfjs model's config (Keras 2 form, as `model.toJSON()`
 * writes it) in the Keras 3 form of a `.keras` archive's `config.json`:
 * `module`/`registered_name` wrappers, `DTypePolicy` dicts, InputLayer
 * `batch_shape`, `inbound_nodes` as `{args, kwargs}` with `__keras_tensor__`
 * references, `Functional` for functional models, an explicit InputLayer
 * opening a Sequential model, and this library's dilated layers as the Keras
 * classes whose weights they hold.
 */

type Layer = LayersModel['layers'][number];

/** A tfjs model's config in the Keras 3 `config.json` form. @internal */
export function toKeras3Config(model: LayersModel): KerasJson {
  const json = model.toJSON(null, false) as unknown as KerasJson;
  return modelEntry(json, model);
}

function modelEntry(entry: KerasJson, model: LayersModel): KerasJson {
  const config = entry['config'] as KerasJson;
  if (entry['class_name'] === 'Sequential') {
    const layers = (config['layers'] as KerasJson[]).map((layer) => layerEntry(layer, model, false));
    const first = layers[0]?.['config'] as KerasJson | undefined;
    if (first && layers[0]!['class_name'] !== 'InputLayer' && first['batch_input_shape'] !== undefined) {
      layers.unshift(inputLayerEntry(`${String(config['name'])}_input`, first['batch_input_shape'] as unknown[]));
    }
    for (const layer of layers) if (layer['class_name'] !== 'InputLayer') delete (layer['config'] as KerasJson)['batch_input_shape'];
    return {
      module: 'keras',
      class_name: 'Sequential',
      config: { name: config['name'], trainable: true, dtype: dtypePolicy('float32'), layers },
      registered_name: null,
    };
  }
  return {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: config['name'],
      trainable: true,
      layers: (config['layers'] as KerasJson[]).map((layer) => layerEntry(layer, model, true)),
      input_layers: (config['input_layers'] as unknown[][]).map((ref) => unshiftRef(ref, model)),
      output_layers: (config['output_layers'] as unknown[][]).map((ref) => unshiftRef(ref, model)),
    },
    registered_name: 'Functional',
  };
}

function layerEntry(entry: KerasJson, model: LayersModel, functional: boolean): KerasJson {
  const name = String(entry['name'] ?? (entry['config'] as KerasJson)['name']);
  const live = safeLayer(model, name);
  const className = String(entry['class_name']);
  let out: KerasJson;
  if (className === 'Model' || className === 'Functional' || className === 'Sequential') {
    const nested = modelEntry(entry, live as unknown as LayersModel);
    out = { ...nested, module: className === 'Sequential' ? 'keras' : 'keras.src.models.functional' };
  } else if (className === 'InputLayer') {
    const config = entry['config'] as KerasJson;
    out = inputLayerEntry(name, config['batch_input_shape'] as unknown[], String(config['dtype'] ?? 'float32'));
  } else {
    out = {
      module: 'keras.layers',
      class_name: kerasClassName(className),
      config: layerConfig(className, entry['config'] as KerasJson),
      registered_name: null,
    };
  }
  if (functional) {
    out['name'] = name;
    out['inbound_nodes'] = ((entry['inbound_nodes'] ?? []) as unknown[][][]).map((node) => kerasNode(node, model));
  }
  return out;
}

function inputLayerEntry(name: string, batchShape: unknown[], dtype = 'float32'): KerasJson {
  return {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: batchShape, dtype, sparse: false, name },
    registered_name: null,
  };
}

/** A layer's config: wrappers on nested objects, a dtype policy, dilated layers as their Keras classes. */
function layerConfig(className: string, raw: KerasJson): KerasJson {
  const config: KerasJson = { ...(wrap(raw, 'keras.initializers') as KerasJson) };
  if (className === 'XceptionAtrousSeparableConv2D') {
    Object.assign(config, { strides: [1, 1], padding: 'same', depth_multiplier: 1, activation: 'linear', data_format: 'channels_last' });
  } else if (className === 'XceptionAtrousDepthwiseConv2D') {
    Object.assign(config, { strides: [1, 1], padding: 'same', depth_multiplier: 1, activation: 'linear', data_format: 'channels_last' });
  }
  for (const key of Object.keys(config)) {
    if (/regularizer$/.test(key) && config[key] !== null) config[key] = { ...(config[key] as KerasJson), module: 'keras.regularizers' };
    if (/constraint$/.test(key) && config[key] !== null) config[key] = { ...(config[key] as KerasJson), module: 'keras.constraints' };
  }
  config['dtype'] = dtypePolicy(typeof raw['dtype'] === 'string' ? raw['dtype'] : 'float32');
  return config;
}

/** Adds Keras 3's `module`/`registered_name` to serialized objects; tfjs' 'normal' VarianceScaling is Keras' truncated normal. */
function wrap(value: unknown, module: string): unknown {
  if (Array.isArray(value)) return value.map((item) => wrap(item, module));
  if (value === null || typeof value !== 'object') return value;
  const object = value as KerasJson;
  const out: KerasJson = {};
  for (const [key, item] of Object.entries(object)) out[key] = wrap(item, module);
  if (typeof object['class_name'] === 'string' && 'config' in object) {
    const config = { ...(out['config'] as KerasJson) };
    if (object['class_name'] === 'VarianceScaling' && config['distribution'] === 'normal') config['distribution'] = 'truncated_normal';
    return { module, class_name: object['class_name'], config, registered_name: null };
  }
  return out;
}

function dtypePolicy(name: string): KerasJson {
  return { module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null };
}

/** A Keras 2 inbound node (`[[layer, node, tensor, kwargs], …]`) as Keras 3's `{args, kwargs}`. */
function kerasNode(node: unknown[][], model: LayersModel): KerasJson {
  const tensors = node.map((ref) => unshiftRef(ref, model)).map(([layer, nodeIndex, tensorIndex]) => ({
    class_name: '__keras_tensor__',
    config: {
      shape: tensorShape(model, String(layer), Number(nodeIndex) + (safeLayer(model, String(layer))?.getClassName() === 'Sequential' ? 1 : 0), Number(tensorIndex)),
      dtype: 'float32',
      keras_history: [layer, nodeIndex, tensorIndex],
    },
  }));
  return { args: tensors.length === 1 ? tensors : [tensors], kwargs: {} };
}

/**
 * tfjs counts a construction node for every nested model; Keras 3 only for
 * Functional ones, not for a nested Sequential: its references move down by one.
 */
function unshiftRef(ref: unknown[], model: LayersModel): unknown[] {
  const layer = safeLayer(model, String(ref[0]));
  return layer?.getClassName() === 'Sequential' ? [ref[0], Number(ref[1]) - 1, ...ref.slice(2)] : ref;
}

function tensorShape(model: LayersModel, layerName: string, nodeIndex: number, tensorIndex: number): unknown {
  const layer = safeLayer(model, layerName);
  const node = layer?.inboundNodes[nodeIndex];
  return node?.outputTensors[tensorIndex]?.shape ?? null;
}

function safeLayer(model: LayersModel, name: string): Layer | undefined {
  return model.layers.find((layer) => layer.name === name);
}
