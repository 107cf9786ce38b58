import { ones, reshape, tidy, transpose, zeros, type Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { requireLayersModel } from '../argument-checks.js';
import { kerasClassName } from '../model/atrous-layers.js';
import { show } from '../model/validation.js';
import { XceptionConfigError } from '../errors.js';
import { modelProtoType } from './onnx-schema.js';

/**
 * Options of {@link exportOnnx}.
 *
 * @example
 * ```ts
 * const bytes = exportOnnx(model, { inputName: 'pixels', outputName: 'probabilities', batchSize: 1 });
 * ```
 * @category ONNX
 */
export interface ExportOnnxOptions {
  /**
   * Name of the graph's input. Default `'input'`. It must differ from the names of the graph's
   * own values, which are the model's layer names (not the input layer's) and `'<layer name>/…'`.
   */
  inputName?: string;
  /** Name of the graph's output. Default `'output'`. The same rule as for `inputName` applies. */
  outputName?: string;
  /**
   * The batch dimension: `'dynamic'` (a symbolic dimension named `batch`,
   * any batch size at run time) or a fixed size. Default `'dynamic'`.
   */
  batchSize?: 'dynamic' | number;
}

/**
 * The ONNX operator set {@link exportOnnx} writes: 13 (ONNX 1.8+, every current runtime).
 *
 * @example
 * ```ts
 * console.log(`opset ${ONNX_OPSET}`);
 * ```
 * @category ONNX
 */
export const ONNX_OPSET = 13;
/** The ONNX IR version written (7 goes with opset 13). */
const IR_VERSION = 7;
const FLOAT = 1;
const INT = 2;
const INTS = 7;
const FLOAT_ATTR = 1;
const STRING_ATTR = 3;

type Layer = LayersModel['layers'][number];
type Config = Record<string, unknown>;
type Attribute = { name: string; type: number; i?: number; ints?: number[]; f?: number; s?: Uint8Array };
type Node = { op_type: string; input: string[]; output: string[]; name: string; attribute: Attribute[] };
type Initializer = { name: string; dims: number[]; data_type: number; raw_data: Uint8Array };
/** Spatial sizes of a value (known or not) and whether it is NCHW (rank 4) or [N, C]. */
type Value = { name: string; rank: 2 | 4; height: number | null; width: number | null };

/**
 * Writes a model as an ONNX model (a `Uint8Array` of the protobuf bytes),
 * so that ONNX Runtime (or any ONNX runtime) can run it.
 *
 * The graph uses **opset 13**. Its one input (named `options.inputName`,
 * default `'input'`) is float32 **NHWC** like the TensorFlow.js model's —
 * `[batch, height, width, channels]`, with a dynamic `batch` dimension unless
 * `batchSize` fixes it — and is transposed to NCHW inside the graph; a 4-D
 * output is transposed back to NHWC, so outputs match `model.predict`
 * element for element. Weights are stored as float32 initializers;
 * BatchNormalization stays a BatchNormalization node (runtimes fold it into
 * the convolution when they load the graph).
 *
 * Layers it knows: everything xception-ts builds (InputLayer, Conv2D,
 * SeparableConv2D, DepthwiseConv2D and the atrous variants,
 * BatchNormalization, Activation relu/softmax/linear, MaxPooling2D, Add,
 * global average/max pooling, Dense, Dropout).
 *
 * @param model - A single-input, single-output model, e.g. from `createXception`.
 * @param options - See {@link ExportOnnxOptions}.
 * @returns The serialized `onnx.ModelProto`.
 * @throws {@link xception-ts!XceptionConfigError} for something that is not a live tf.LayersModel, a
 * layer or setting it cannot express, or bad options (an `inputName` or `outputName` that is a
 * layer's name or starts with a layer's name and `/` would clash with the graph's own value names).
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { createXception } from 'xception-ts';
 * import { exportOnnx } from 'xception-ts/onnx';
 *
 * const model = await createXception({ weights: 'imagenet' });
 * writeFileSync('xception.onnx', exportOnnx(model)); // input 'input' [batch, 299, 299, 3]
 * ```
 * @category ONNX
 */
export function exportOnnx(model: LayersModel, options: ExportOnnxOptions = {}): Uint8Array {
  requireLayersModel('exportOnnx: model', model);
  if (options === null || typeof options !== 'object') {
    throw new XceptionConfigError(`exportOnnx: options must be an object (ExportOnnxOptions); got ${show(options)}.`);
  }
  const { inputName = 'input', outputName = 'output', batchSize = 'dynamic' } = options;
  if (batchSize !== 'dynamic' && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new XceptionConfigError(`exportOnnx: batchSize must be 'dynamic' or a positive integer; got ${JSON.stringify(batchSize)}.`);
  }
  for (const [key, name] of [['inputName', inputName], ['outputName', outputName]] as const) {
    if (typeof name !== 'string' || name === '') {
      throw new XceptionConfigError(`exportOnnx: ${key} must be a non-empty string; got ${JSON.stringify(name)}.`);
    }
    // The graph's own values are named '<layer>' (not the input layer) and '<layer>/<part>'; ONNX needs every value name once.
    const taken = model.layers.find((l) => (name === l.name && l.getClassName() !== 'InputLayer') || name.startsWith(`${l.name}/`));
    if (taken) {
      throw new XceptionConfigError(
        `exportOnnx: ${key} '${name}' would clash with the values the graph names after layer '${taken.name}' ` +
          `('${taken.name}' and '${taken.name}/…'); choose a name that is no layer's name and does not start with a layer's name and '/'.`,
      );
    }
  }
  if (inputName === outputName) throw new XceptionConfigError(`exportOnnx: inputName and outputName must differ; both are '${inputName}'.`);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new XceptionConfigError(
      `exportOnnx takes a model with one input and one output; '${model.name}' has ${model.inputs.length} and ${model.outputs.length}.`,
    );
  }
  const shared = model.layers.find((l) => l.inboundNodes.length !== 1);
  if (shared) {
    throw new XceptionConfigError(`exportOnnx cannot express layer '${shared.name}': it is applied ${shared.inboundNodes.length} times (shared layers are not supported).`);
  }
  const inputShape = model.inputs[0]!.shape;
  if (inputShape.length !== 4) {
    throw new XceptionConfigError(`exportOnnx takes an image model with a [batch, height, width, channels] input; '${model.name}' has [${inputShape.join(', ')}].`);
  }

  const graph = new GraphWriter();
  const values = new Map<string, Value>();
  const inputLayer = model.inputs[0]!.sourceLayer;
  graph.node('Transpose', [inputName], `${inputLayer.name}/nchw`, inputLayer.name, [ints('perm', [0, 3, 1, 2])]);
  values.set(inputLayer.name, { name: `${inputLayer.name}/nchw`, rank: 4, height: inputShape[1] ?? null, width: inputShape[2] ?? null });

  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const sources = ([] as SymbolicTensor[]).concat(layer.input as SymbolicTensor | SymbolicTensor[]).map((t) => values.get(t.sourceLayer.name)!);
    values.set(layer.name, translate(graph, layer, sources));
  }

  const last = values.get(model.outputs[0]!.sourceLayer.name)!;
  if (last.rank === 4) graph.node('Transpose', [last.name], outputName, `${outputName}/nhwc`, [ints('perm', [0, 2, 3, 1])]);
  else graph.node('Identity', [last.name], outputName, `${outputName}/identity`);

  const batchDim = batchSize === 'dynamic' ? { dim_param: 'batch' } : { dim_value: batchSize };
  // Unknown sizes get a symbolic name; the same name on two tensors would claim they are equal.
  const dims = (shape: (number | null)[], prefix: string) =>
    shape.map((d, i) => (i === 0 ? batchDim : d === null ? { dim_param: `${prefix}${['', 'height', 'width'][i] ?? `dim${i}`}` } : { dim_value: d }));
  const valueInfo = (name: string, shape: (number | null)[], prefix: string) => ({
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims(shape, prefix) } } },
  });

  const ModelProto = modelProtoType();
  const message = ModelProto.fromObject({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'xception-ts',
    doc_string: `${model.name}, exported from TensorFlow.js by xception-ts. Input NHWC float32.`,
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(inputName, inputShape, '')],
      output: [valueInfo(outputName, model.outputs[0]!.shape, 'output_')],
    },
  });
  return ModelProto.encode(message).finish();
}

/** Collects nodes and initializers. */
class GraphWriter {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];

  node(op: string, input: string[], output: string, name: string, attribute: Attribute[] = []): string {
    this.nodes.push({ op_type: op, input, output: [output], name, attribute });
    return output;
  }

  /** Adds a float32 initializer; `tensor` is computed in a tidy and read synchronously. */
  weight(name: string, compute: () => Tensor): string {
    const tensor = tidy(compute);
    try {
      const data = tensor.dataSync() as Float32Array;
      const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.initializers.push({ name, dims: tensor.shape, data_type: FLOAT, raw_data: littleEndian(raw) });
    } finally {
      tensor.dispose();
    }
    return name;
  }
}

function translate(graph: GraphWriter, layer: Layer, sources: Value[]): Value {
  const className = layer.getClassName();
  const config = layer.getConfig() as Config;
  const [x] = sources as [Value];
  const name = layer.name;
  const kind = kerasClassName(className);
  const fail = (what: string) =>
    new XceptionConfigError(`exportOnnx cannot express layer '${name}' (${className}): ${what}; it knows the layers xception-ts builds.`);
  const activate = (value: Value, activation: unknown): Value => {
    if (activation === undefined || activation === null || activation === 'linear') return value;
    if (activation === 'relu') return { ...value, name: graph.node('Relu', [value.name], `${name}/relu`, `${name}/relu`) };
    if (activation === 'softmax' && value.rank === 2) {
      return { ...value, name: graph.node('Softmax', [value.name], `${name}/softmax`, `${name}/softmax`, [int('axis', -1)]) };
    }
    throw fail(`activation '${String(activation)}'`);
  };

  switch (kind) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      if (x.rank !== 4) throw fail('its input is not an image');
      if (config['dataFormat'] !== undefined && config['dataFormat'] !== 'channelsLast') throw fail(`dataFormat '${String(config['dataFormat'])}'`);
      const weights = layer.getWeights();
      const kernelSize = (config['kernelSize'] as [number, number] | undefined) ?? [1, 1];
      const strides = (config['strides'] as [number, number] | undefined) ?? [1, 1];
      const dilations = (config['dilationRate'] as [number, number] | number | undefined) ?? [1, 1];
      const dilation = typeof dilations === 'number' ? [dilations, dilations] : dilations;
      const padding = (config['padding'] as string | undefined) ?? 'same'; // the atrous layers are always 'same'
      if (padding !== 'same' && padding !== 'valid') throw fail(`padding '${padding}'`);
      const geometry = convGeometry(x, kernelSize, strides, dilation as [number, number], padding);
      const useBias = config['useBias'] === true;
      const kernelCount = kind === 'SeparableConv2D' ? 2 : 1;
      const bias = useBias ? graph.weight(`${name}/bias`, () => weights[kernelCount]!.clone()) : undefined;
      let value = x.name;
      if (kind === 'Conv2D') {
        const kernel = graph.weight(`${name}/kernel`, () => transpose(weights[0]!, [3, 2, 0, 1]));
        value = graph.node('Conv', [value, kernel, ...(bias ? [bias] : [])], name, name, geometry.attributes);
      } else {
        // [kh, kw, c, m] → [c·m, 1, kh, kw]: output channel c·m + j, as in tf.depthwiseConv2d.
        const depthwise = weights[0]!;
        const [kh, kw, channels, multiplier] = depthwise.shape as [number, number, number, number];
        const kernel = graph.weight(`${name}/depthwise_kernel`, () => reshape(transpose(depthwise, [2, 3, 0, 1]), [channels * multiplier, 1, kh, kw]));
        const groups = int('group', channels);
        if (kind === 'DepthwiseConv2D') {
          value = graph.node('Conv', [value, kernel, ...(bias ? [bias] : [])], name, name, [...geometry.attributes, groups]);
        } else {
          value = graph.node('Conv', [value, kernel], `${name}/depthwise`, `${name}/depthwise`, [...geometry.attributes, groups]);
          const pointwise = graph.weight(`${name}/pointwise_kernel`, () => transpose(weights[1]!, [3, 2, 0, 1]));
          value = graph.node('Conv', [value, pointwise, ...(bias ? [bias] : [])], name, `${name}/pointwise`, [ints('kernel_shape', [1, 1])]);
        }
      }
      return activate({ name: value, rank: 4, height: geometry.height, width: geometry.width }, config['activation']);
    }
    case 'BatchNormalization': {
      const axis = config['axis'];
      if (axis !== -1 && axis !== (x.rank === 4 ? 3 : 1) && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))) {
        throw fail(`axis ${JSON.stringify(axis)} (only the channel axis)`);
      }
      const weights = layer.getWeights();
      let at = 0;
      const channels = weights[weights.length - 1]!.shape[0]!;
      const gamma = config['scale'] !== false ? weights[at++]! : null;
      const beta = config['center'] !== false ? weights[at++]! : null;
      const [mean, variance] = [weights[at]!, weights[at + 1]!];
      const scale = graph.weight(`${name}/gamma`, () => (gamma ? gamma.clone() : ones([channels])));
      const shift = graph.weight(`${name}/beta`, () => (beta ? beta.clone() : zeros([channels])));
      const m = graph.weight(`${name}/moving_mean`, () => mean.clone());
      const v = graph.weight(`${name}/moving_variance`, () => variance.clone());
      graph.node('BatchNormalization', [x.name, scale, shift, m, v], name, name, [float('epsilon', config['epsilon'] as number)]);
      return { ...x, name };
    }
    case 'Activation':
      if (config['activation'] === 'softmax' && x.rank !== 2) throw fail('softmax over an image');
      return activate(x, config['activation']);
    case 'MaxPooling2D': {
      if (x.rank !== 4) throw fail('its input is not an image');
      const poolSize = config['poolSize'] as [number, number];
      const strides = (config['strides'] as [number, number] | null) ?? poolSize;
      const geometry = convGeometry(x, poolSize, strides, [1, 1], config['padding'] as 'same' | 'valid');
      graph.node('MaxPool', [x.name], name, name, geometry.attributes.filter((a) => a.name !== 'dilations'));
      return { name, rank: 4, height: geometry.height, width: geometry.width };
    }
    case 'Add': {
      // A chain of two-input Adds: ONNX Runtime's WebGPU provider has no variadic Sum.
      let total = sources[0]!.name;
      sources.slice(1).forEach((source, i) => {
        const output = i === sources.length - 2 ? name : `${name}/partial_${i}`;
        total = graph.node('Add', [total, source.name], output, output);
      });
      return { ...x, name: total };
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      if (x.rank !== 4) throw fail('its input is not an image');
      if (config['keepDims'] === true) throw fail('keepDims');
      const pooled = graph.node(kind === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${name}/pool`, `${name}/pool`);
      graph.node('Flatten', [pooled], name, name, [int('axis', 1)]);
      return { name, rank: 2, height: null, width: null };
    }
    case 'Dense': {
      if (x.rank !== 2) throw fail('its input is not [batch, features]');
      const [kernel, bias] = layer.getWeights();
      const k = graph.weight(`${name}/kernel`, () => kernel!.clone());
      const b = bias ? [graph.weight(`${name}/bias`, () => bias.clone())] : [];
      graph.node('Gemm', [x.name, k, ...b], name, name);
      return activate({ ...x, name }, config['activation']);
    }
    case 'Dropout':
      return x;
    case 'ZeroPadding2D': {
      // The aligned presets' symmetric padding before a 'valid' strided conv: ONNX Pad (NCHW pads as an int64 input).
      if (x.rank !== 4) throw fail('its input is not an image');
      const [[top, bottom], [left, right]] = config['padding'] as [[number, number], [number, number]];
      const pads = [0, 0, top, left, 0, 0, bottom, right];
      const raw = new Uint8Array(8 * pads.length);
      pads.forEach((p, i) => new DataView(raw.buffer).setBigInt64(8 * i, BigInt(p), true));
      graph.initializers.push({ name: `${name}/pads`, dims: [pads.length], data_type: 7 /* INT64 */, raw_data: raw });
      graph.node('Pad', [x.name, `${name}/pads`], name, name);
      const grow = (size: number | null, extra: number) => (size === null ? null : size + extra);
      return { name, rank: 4, height: grow(x.height, top + bottom), width: grow(x.width, left + right) };
    }
    default:
      throw fail('unknown layer class');
  }
}

/**
 * ONNX attributes for a TensorFlow-style convolution or pooling window, with
 * TensorFlow's 'same' padding written out (extra padding at the end) when the
 * input size is known, or `auto_pad = SAME_UPPER` (the same rule) when not.
 */
function convGeometry(
  x: Value,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
  padding: 'same' | 'valid',
): { attributes: Attribute[]; height: number | null; width: number | null } {
  const attributes = [ints('kernel_shape', kernel), ints('strides', strides), ints('dilations', dilations)];
  const span = (i: 0 | 1) => (kernel[i] - 1) * dilations[i] + 1;
  const outSize = (size: number | null, i: 0 | 1) =>
    size === null ? null : padding === 'same' ? Math.ceil(size / strides[i]) : Math.floor((size - span(i)) / strides[i]) + 1;
  const height = outSize(x.height, 0);
  const width = outSize(x.width, 1);
  if (padding === 'same') {
    // At stride 1 the padding is span − 1 whatever the size; otherwise it depends on the size.
    const stride1 = strides[0] === 1 && strides[1] === 1;
    if ((x.height === null || x.width === null) && !stride1) {
      if (dilations[0] !== 1 || dilations[1] !== 1) {
        throw new XceptionConfigError('exportOnnx cannot express a strided, dilated convolution on an input of unknown size; give the model a fixed inputShape.');
      }
      attributes.push({ name: 'auto_pad', type: STRING_ATTR, s: new TextEncoder().encode('SAME_UPPER') });
    } else {
      const total = (size: number | null, out: number | null, i: 0 | 1) =>
        stride1 ? span(i) - 1 : Math.max((out! - 1) * strides[i] + span(i) - size!, 0);
      const th = total(x.height, height, 0);
      const tw = total(x.width, width, 1);
      attributes.push(ints('pads', [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)]));
    }
  }
  return { attributes, height, width };
}

function int(name: string, i: number): Attribute {
  return { name, type: INT, i };
}
function ints(name: string, values: number[]): Attribute {
  return { name, type: INTS, ints: values };
}
function float(name: string, f: number): Attribute {
  return { name, type: FLOAT_ATTR, f };
}

const BIG_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;

/** ONNX's raw_data is little-endian; reorders float32 bytes on a big-endian machine. */
function littleEndian(bytes: Uint8Array): Uint8Array {
  if (!BIG_ENDIAN) return bytes;
  const copy = bytes.slice();
  for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse();
  return copy;
}
