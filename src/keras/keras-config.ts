import { XceptionModelFileError } from '../errors.js';

/*
 * Translates a Keras model config, as Keras 1.x, 2.x, tf.keras or Keras 3
 * wrote it, into the Keras 2 form that TensorFlow.js' layers deserialize:
 * - Keras 1 class and argument names (Convolution2D, nb_filter, border_mode,
 *   subsample, output_dim, p, Merge(mode='sum'), ...);
 * - Keras 3's `batch_shape`, `DTypePolicy` dicts, `module`/`registered_name`
 *   wrappers, `L2`/`L1` regularizers, and `inbound_nodes` as
 *   `{args, kwargs}` with `__keras_tensor__` references;
 * - nested functional and sequential models, recursively.
 * Initializers, regularizers and constraints do not change a loaded model's
 * outputs; Keras 1's are dropped rather than translated.
 */

/** A JSON object as Keras writes it. @internal */
export type KerasJson = { [key: string]: unknown };

/** One layer of a model config, for tables and error messages. @internal */
export interface ConfigLayer {
  /** The layer's name. */
  name: string;
  /** Its Keras class name, as the file spells it. */
  className: string;
  /** Nesting, e.g. `['xception']` for a layer of a nested model named 'xception'. */
  parents: string[];
}

const KERAS1_CLASSES: Record<string, string> = {
  Convolution2D: 'Conv2D',
  SeparableConvolution2D: 'SeparableConv2D',
  Deconvolution2D: 'Conv2DTranspose',
  AtrousConvolution2D: 'Conv2D',
  Input: 'InputLayer',
};

const MERGE_MODES: Record<string, string> = { sum: 'Add', mul: 'Multiply', ave: 'Average', max: 'Maximum', concat: 'Concatenate' };

const MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);

/** Wrapper keys of Keras 3 serialization that tfjs does not know. */
const KERAS3_WRAPPER_KEYS = ['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id'];

/** Keras 1 arguments that only initialize or regularize; dropped. */
const KERAS1_DROPPED = [
  'init', 'inner_init', 'W_regularizer', 'b_regularizer', 'activity_regularizer', 'W_constraint', 'b_constraint',
  'depthwise_regularizer', 'pointwise_regularizer', 'depthwise_constraint', 'pointwise_constraint',
  'gamma_regularizer', 'beta_regularizer', 'input_dim', 'weights', 'mode',
];

/**
 * Translates a whole model config (`{class_name, config}`) for tfjs.
 * `label` names the file in error messages. @internal
 */
export function translateModelConfig(raw: unknown, label: string): KerasJson {
  const entry = requireObject(raw, `${label}: the model config`);
  const className = requireString(entry['class_name'], `${label}: the model config's class_name`);
  if (!MODEL_CLASSES.has(className)) {
    throw new XceptionModelFileError(
      `${label}: the model config describes a ${className}; a model file holds a 'Functional', 'Model' or 'Sequential'.`,
    );
  }
  return translateLayer(entry, label, [], true);
}

/** Every layer of a model config, depth first, nested models' layers after the nested model. @internal */
export function listConfigLayers(raw: unknown, parents: string[] = []): ConfigLayer[] {
  const entry = raw as KerasJson;
  const config = entry?.['config'];
  const layers = Array.isArray(config) ? config : (config as KerasJson | undefined)?.['layers'];
  if (!Array.isArray(layers)) return [];
  return layers.flatMap((layer: KerasJson): ConfigLayer[] => {
    const layerConfig = (layer?.['config'] ?? {}) as KerasJson;
    const name = String(layer?.['name'] ?? layerConfig['name'] ?? '(unnamed)');
    const own = { name, className: String(layer?.['class_name']), parents };
    return MODEL_CLASSES.has(own.className) ? [own, ...listConfigLayers(layer, [...parents, name])] : [own];
  });
}

/**
 * Keras 3 counts no construction node for a nested Sequential model (it is
 * not a Functional), tfjs does (as Keras 2 did): references to a nested
 * Sequential's outputs move up by one. Maps a layer name to that shift.
 */
type NodeShift = Map<string, number>;

function translateLayer(raw: unknown, label: string, parents: string[], top = false, shift: NodeShift = new Map()): KerasJson {
  const entry = requireObject(raw, `${label}: a layer entry`);
  let className = requireString(entry['class_name'], `${label}: a layer's class_name`);
  const rawConfig = entry['config'];
  const where = `${label}: layer '${String(entry['name'] ?? (rawConfig as KerasJson | undefined)?.['name'] ?? '?')}' (${className})`;

  if (className === 'Sequential' || className === 'Model' || className === 'Functional') {
    const config = translateModelBody(className, rawConfig, label, parents, entry);
    const out: KerasJson = { class_name: className === 'Sequential' ? 'Sequential' : 'Model', config };
    if (!top) copyNodeFields(entry, out, where, shift);
    return out;
  }

  let config = { ...requireObject(rawConfig, `${where}: its config`) };
  const keras1 = className in KERAS1_CLASSES || className === 'Merge' || isKeras1Config(className, config);
  if (className === 'Merge') {
    const mode = String(config['mode'] ?? 'sum');
    const merged = MERGE_MODES[mode];
    if (merged === undefined) {
      throw new XceptionModelFileError(
        `${where}: Merge mode '${mode}' has no TensorFlow.js layer; supported modes are ${Object.keys(MERGE_MODES).join(', ')}.`,
      );
    }
    if (config['concat_axis'] !== undefined) config['axis'] = config['concat_axis'];
    config = { name: config['name'], ...(merged === 'Concatenate' ? { axis: config['axis'] ?? -1 } : {}) };
    className = merged;
  } else if (keras1) {
    config = translateKeras1Config(className, config, where);
    className = KERAS1_CLASSES[className] ?? className;
  }

  config = cleanValue(config) as KerasJson;
  if (className === 'InputLayer') {
    if (config['batch_shape'] !== undefined && config['batch_input_shape'] === undefined) config['batch_input_shape'] = config['batch_shape'];
    delete config['batch_shape'];
    delete config['ragged'];
    delete config['optional'];
    delete config['input_tensor'];
  } else if (config['batch_shape'] !== undefined) {
    config['batch_input_shape'] = config['batch_shape'];
    delete config['batch_shape'];
  }
  if (/^Global(Average|Max)Pooling[123]D$/.test(className) && config['keepdims'] === false) delete config['keepdims'];

  const out: KerasJson = { class_name: className, config };
  copyNodeFields(entry, out, where, shift);
  return out;
}

/** The body of a functional or sequential model config. */
function translateModelBody(className: string, rawConfig: unknown, label: string, parents: string[], entry: KerasJson): KerasJson | KerasJson[] {
  const name = String(entry['name'] ?? (rawConfig as KerasJson | undefined)?.['name'] ?? 'model');
  const inner = [...parents, name];
  if (Array.isArray(rawConfig)) {
    // Keras 1 and Keras ≤ 2.2 Sequential: a bare list of layers.
    return { name, layers: rawConfig.map((layer) => translateLayer(layer, label, inner)) };
  }
  const config = requireObject(rawConfig, `${label}: the config of model '${name}'`);
  const layers = config['layers'];
  if (!Array.isArray(layers)) {
    throw new XceptionModelFileError(`${label}: model '${name}' has no 'layers' list in its config.`);
  }
  const keras3Nodes = layers.some((layer: KerasJson) =>
    Array.isArray(layer?.['inbound_nodes']) && (layer['inbound_nodes'] as unknown[]).some((node) => node !== null && typeof node === 'object' && !Array.isArray(node)));
  const shift: NodeShift = new Map(
    keras3Nodes
      ? layers.filter((layer: KerasJson) => layer?.['class_name'] === 'Sequential').map((layer: KerasJson) => [String(layer['name'] ?? (layer['config'] as KerasJson)?.['name']), 1])
      : [],
  );
  const out: KerasJson = {
    name: config['name'] ?? name,
    layers: layers.map((layer) => translateLayer(layer, label, inner, false, className === 'Sequential' ? new Map() : shift)),
  };
  if (className !== 'Sequential') {
    const shifted = (refs: unknown[]) => refs.map((ref) => shiftRef(ref as unknown[], shift));
    out['input_layers'] = shifted(tensorRefs(config['input_layers'], `${label}: input_layers of model '${name}'`));
    out['output_layers'] = shifted(tensorRefs(config['output_layers'], `${label}: output_layers of model '${name}'`));
  }
  return out;
}

/** `name` and `inbound_nodes` of a layer inside a functional model, in the Keras 2 form. */
function copyNodeFields(entry: KerasJson, out: KerasJson, where: string, shift: NodeShift): void {
  const config = out['config'] as KerasJson | undefined;
  const name = entry['name'] ?? (Array.isArray(config) ? undefined : config?.['name']);
  if (name !== undefined) out['name'] = name;
  if (entry['inbound_nodes'] === undefined) return;
  const nodes = entry['inbound_nodes'];
  if (!Array.isArray(nodes)) throw new XceptionModelFileError(`${where}: inbound_nodes is not a list.`);
  out['inbound_nodes'] = nodes.map((node) => translateNode(node, where).map((ref) => shiftRef(ref as unknown[], shift)));
}

/**
 * One inbound node: Keras 1/2 `[[layer, node, tensor(, kwargs)], …]`, or
 * Keras 3 `{args: [...], kwargs: {...}}` whose tensors are
 * `{class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}`.
 */
function translateNode(node: unknown, where: string): unknown[] {
  if (Array.isArray(node)) {
    return node.map((ref) => {
      if (!Array.isArray(ref) || ref.length < 3 || typeof ref[0] !== 'string') {
        throw new XceptionModelFileError(`${where}: an inbound node entry is not [layer, node, tensor]: ${JSON.stringify(ref)?.slice(0, 100)}.`);
      }
      return [ref[0], ref[1], ref[2], {}];
    });
  }
  if (node !== null && typeof node === 'object' && 'args' in node) {
    const refs: unknown[] = [];
    collectKerasTensors((node as KerasJson)['args'], refs, where);
    if (refs.length === 0) throw new XceptionModelFileError(`${where}: an inbound node has no input tensor.`);
    return refs;
  }
  throw new XceptionModelFileError(`${where}: an inbound node is neither a Keras 2 list nor a Keras 3 {args, kwargs} object.`);
}

function collectKerasTensors(value: unknown, refs: unknown[], where: string): void {
  if (Array.isArray(value)) {
    for (const item of value) collectKerasTensors(item, refs, where);
  } else if (value !== null && typeof value === 'object') {
    const object = value as KerasJson;
    if (object['class_name'] === '__keras_tensor__') {
      const history = (object['config'] as KerasJson | undefined)?.['keras_history'];
      if (!Array.isArray(history) || typeof history[0] !== 'string') {
        throw new XceptionModelFileError(`${where}: a __keras_tensor__ without keras_history [layer, node, tensor].`);
      }
      refs.push([history[0], history[1] ?? 0, history[2] ?? 0, {}]);
    }
  }
}

function shiftRef(ref: unknown[], shift: NodeShift): unknown[] {
  const by = shift.get(String(ref[0])) ?? 0;
  return by === 0 ? ref : [ref[0], Number(ref[1]) + by, ...ref.slice(2)];
}

/** `input_layers`/`output_layers`: a list of [layer, node, tensor]; Keras 3 may write one bare reference. */
function tensorRefs(value: unknown, where: string): unknown[] {
  if (Array.isArray(value) && typeof value[0] === 'string') return [value];
  if (Array.isArray(value) && value.every((ref) => Array.isArray(ref) && typeof ref[0] === 'string')) return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.values(value as KerasJson).flatMap((ref) => tensorRefs(ref, where));
  }
  throw new XceptionModelFileError(`${where} is not a list of [layer, node, tensor] references.`);
}

/** Keras 3 wrappers and spellings inside a layer config, recursively. */
function cleanValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanValue);
  if (value === null || typeof value !== 'object') return value;
  const object = value as KerasJson;
  if (object['class_name'] === 'DTypePolicy' || object['class_name'] === 'Policy') {
    const name = (object['config'] as KerasJson | undefined)?.['name'];
    return typeof name === 'string' && !name.startsWith('mixed_') ? name : 'float32';
  }
  const out: KerasJson = {};
  for (const [key, item] of Object.entries(object)) {
    if (!KERAS3_WRAPPER_KEYS.includes(key)) out[key] = cleanValue(item);
  }
  if (out['class_name'] === 'VarianceScaling') {
    // tfjs knows 'normal' (truncated) and 'uniform'; the initializer does not affect loaded weights.
    const config = (out['config'] ?? {}) as KerasJson;
    if (config['distribution'] !== 'uniform') out['config'] = { ...config, distribution: 'normal' };
  }
  if (out['class_name'] === 'L2' || out['class_name'] === 'L1') {
    const config = (out['config'] ?? {}) as KerasJson;
    out['config'] = { l1: config['l1'] ?? 0, l2: config['l2'] ?? 0 };
    out['class_name'] = 'L1L2';
  }
  return out;
}

/** A Keras 1 config of a class whose name Keras 2 kept (Dense, BatchNormalization, MaxPooling2D, ...). */
function isKeras1Config(className: string, config: KerasJson): boolean {
  return (
    'output_dim' in config || 'border_mode' in config || 'nb_filter' in config || 'input_dtype' in config ||
    (className === 'Dropout' && 'p' in config) || ('mode' in config && className === 'BatchNormalization')
  );
}

function translateKeras1Config(className: string, raw: KerasJson, where: string): KerasJson {
  const config: KerasJson = { ...raw };
  if (config['dim_ordering'] === 'th') {
    throw new XceptionModelFileError(
      `${where}: dim_ordering 'th' (channels first, Theano) is not supported; TensorFlow.js runs channels last ('tf').`,
    );
  }
  if (className === 'BatchNormalization' && config['mode'] !== undefined && config['mode'] !== 0) {
    throw new XceptionModelFileError(`${where}: BatchNormalization mode ${String(config['mode'])} is not supported; only mode 0 is.`);
  }
  const rename = (from: string, to: string) => {
    if (from in config) {
      if (!(to in config)) config[to] = config[from];
      delete config[from];
    }
  };
  rename('nb_filter', 'filters');
  rename('subsample', 'strides');
  rename('border_mode', 'padding');
  rename('bias', 'use_bias');
  rename('output_dim', 'units');
  rename('input_dtype', 'dtype');
  rename('atrous_rate', 'dilation_rate');
  if (className === 'Dropout') rename('p', 'rate');
  if ('nb_row' in config || 'nb_col' in config) {
    config['kernel_size'] = [config['nb_row'], config['nb_col']];
    delete config['nb_row'];
    delete config['nb_col'];
  }
  delete config['dim_ordering'];
  if (/Conv|Pooling/.test(className)) config['data_format'] = 'channels_last';
  for (const key of KERAS1_DROPPED) delete config[key];
  return config;
}

function requireObject(value: unknown, what: string): KerasJson {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new XceptionModelFileError(`${what} is not a JSON object.`);
  }
  return value as KerasJson;
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new XceptionModelFileError(`${what} is missing or not a string.`);
  return value;
}
