import { tensor, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { requireLayersModel } from '../argument-checks.js';
import { XceptionConfigError, XceptionWeightsError } from '../errors.js';
import { show } from '../model/validation.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { readSafetensors, type SafetensorsEntry, type SafetensorsFile } from './safetensors.js';
import { resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { readWeightsSource, type WeightsSource } from './weights-source.js';

type Layer = LayersModel['layers'][number];

/**
 * The {@link loadTimmWeights} function options.
 *
 * @example
 * ```ts
 * const options: LoadTimmWeightsOptions = { skipMismatch: true }; // keep a 10-class head
 * ```
 * @category Weights
 */
export interface LoadTimmWeightsOptions {
  /**
   * Leave the classifier (`predictions`) as it is when its shape differs from
   * the checkpoint's `head.fc` (fine-tuning with another number of classes).
   * Any other mismatch is still an error. @defaultValue `false`
   */
  skipMismatch?: boolean;
  /** Accept NaN and ±Infinity in the checkpoint (refused by default, naming the tensor). @defaultValue `false` */
  allowNonFinite?: boolean;
  /**
   * Timeouts, size cap and abort signal when `source` is a URL; see
   * {@link DownloadOptions} (default cap 1 GiB, timeouts 30 s).
   * @defaultValue `{}`
   */
  download?: DownloadOptions;
}

/**
 * What {@link loadTimmWeights} did.
 *
 * @example
 * ```ts
 * const { tensorsLoaded, skipped }: LoadTimmWeightsResult = await loadTimmWeights(model, bytes);
 * ```
 * @category Weights
 */
export interface LoadTimmWeightsResult {
  /** Checkpoint tensors set into the model. */
  tensorsLoaded: number;
  /** Scalars assigned. */
  valuesLoaded: number;
  /**
   * Checkpoint tensors that were not loaded: `num_batches_tracked` counters,
   * the head without a top (`includeTop: false`), a head of another shape with `skipMismatch`.
   */
  skipped: string[];
}

/** One model weight and the checkpoint tensor that fills it. */
interface Assignment {
  layer: Layer;
  index: number;
  key: string;
  /** The checkpoint's (PyTorch) shape. */
  timmShape: number[];
  /** Axis order that turns the PyTorch layout into the tfjs one. */
  perm: number[] | null;
}

/**
 * Loads a timm checkpoint (a PyTorch state dict saved as safetensors, as the
 * Hugging Face hub publishes `timm/<model>.<tag>/model.safetensors`) into an
 * aligned Xception (`xception41`, `xception65`, `xception71`, `xception41p`,
 * `xception65p`), atomically: every name, shape, dtype and value is checked
 * first, and the model changes only when all fit.
 *
 * Names map one to one (`stem.0.conv` → `block1_conv1`, `blocks.{i}.stack.conv{k}.conv_dw`
 * → `block{i+2}_sepconv{k}_depthwise`, `…bn_pw` → `…_pointwise_bn`,
 * `head.fc` → `predictions`, …); layouts are transposed (conv OIHW → HWIO,
 * depthwise (C, 1, kh, kw) → (kh, kw, C, 1), linear (out, in) → (in, out)).
 * float32, float16 and bfloat16 tensors are read; `num_batches_tracked`
 * counters are ignored. A model without the top ignores `head.fc`; a head of
 * another size needs `skipMismatch: true`.
 *
 * @param model - An aligned model from {@link createXception} or {@link createXceptionBackbone}.
 * @param source - The `.safetensors` file: bytes, a `Blob`, a URL, or a path in Node.
 * @param options - See {@link LoadTimmWeightsOptions}.
 * @returns What was loaded and what was skipped.
 * @throws {@link XceptionDownloadError} when a URL cannot be downloaded within `options.download`'s limits.
 * @throws {@link XceptionWeightsError} when the file is not valid safetensors, or names, shapes or
 *   counts do not fit (listing what is missing and what is extra); the model is unchanged.
 *
 * @example
 * ```ts
 * import { createXception, loadTimmWeights } from 'xception-ts';
 *
 * const model = createXception({ preset: 'xception65', classifierActivation: 'linear' });
 * await loadTimmWeights(model, './xception65.ra3_in1k/model.safetensors');
 * ```
 * @category Weights
 */
export async function loadTimmWeights(
  model: LayersModel,
  source: WeightsSource,
  options: LoadTimmWeightsOptions = {},
): Promise<LoadTimmWeightsResult> {
  requireLayersModel('loadTimmWeights: model', model);
  requireKnownOptions('loadTimmWeights', options, ['skipMismatch', 'allowNonFinite', 'download']);
  resolveDownloadOptions(options.download);
  for (const key of ['skipMismatch', 'allowNonFinite'] as const) {
    const value: unknown = options[key];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new XceptionConfigError(`loadTimmWeights: ${key} must be true or false; got ${show(value)}.`);
    }
  }
  const { bytes, label } = await readWeightsSource(source, options.download);
  return loadTimmWeightsFromBuffer(model, bytes, label, options);
}

/** The synchronous core of {@link loadTimmWeights}. @internal */
export function loadTimmWeightsFromBuffer(
  model: LayersModel,
  bytes: ArrayBuffer,
  label: string,
  options: LoadTimmWeightsOptions = {},
): LoadTimmWeightsResult {
  const file = readSafetensors(bytes, label);
  const { assignments, skipped } = plan(model, file, label, options);
  // Every value, before anything is set.
  const values = assignments.map((a) => {
    const entry = file.entries.get(a.key)!;
    const data = file.readFloat32(entry);
    if (!options.allowNonFinite) {
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]!)) {
          throw new XceptionWeightsError(`${label}: tensor '${a.key}' holds ${data[i]} at index ${i}; pass allowNonFinite: true to load it anyway.`);
        }
      }
    }
    return data;
  });

  const byLayer = new Map<Layer, { a: Assignment; data: Float32Array }[]>();
  assignments.forEach((a, i) => byLayer.set(a.layer, [...(byLayer.get(a.layer) ?? []), { a, data: values[i]! }]));
  let valuesLoaded = 0;
  for (const [layer, items] of byLayer) {
    tidy(() => {
      const weights = layer.getWeights();
      for (const { a, data } of items) {
        const shape = a.layer.weights[a.index]!.shape as number[];
        weights[a.index] = tensor(a.perm ? permute(data, a.timmShape, a.perm) : data, shape, 'float32');
        valuesLoaded += data.length;
      }
      layer.setWeights(weights);
    });
  }
  return { tensorsLoaded: assignments.length, valuesLoaded, skipped };
}

/** Pairs every model weight with a checkpoint tensor and checks names, shapes and dtypes. */
function plan(model: LayersModel, file: SafetensorsFile, label: string, options: LoadTimmWeightsOptions) {
  const names = new Set(model.layers.map((l) => l.name));
  if (!names.has('block1_conv1_pad')) {
    throw new XceptionWeightsError(
      `${label}: model '${model.name}' is not an aligned Xception (xception41, xception65, xception71, xception41p, ` +
        "xception65p); timm checkpoints fit those. Keras' Xception ('keras' preset) loads Keras files with loadKerasWeights.",
    );
  }
  const preactivation = names.has('block2_preact_bn');
  const assignments: Assignment[] = [];
  const unmapped: string[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const prefix = timmPrefix(layer.name, preactivation);
    if (prefix === null) {
      unmapped.push(`'${layer.name}'`);
      continue;
    }
    layer.weights.forEach((weight, index) => {
      const role = weight.originalName.slice(weight.originalName.lastIndexOf('/') + 1).replace(/_\d+$/, '');
      const shape = weight.shape as number[];
      const { suffix, perm } = timmWeight(role, shape.length);
      assignments.push({ layer, index, key: `${prefix}.${suffix}`, timmShape: perm ? inversePermute(shape, perm) : shape, perm });
    });
  }
  if (unmapped.length > 0) {
    throw new XceptionWeightsError(`${label}: model layers ${list(unmapped)} have no timm counterpart; loadTimmWeights fills the aligned presets as built.`);
  }

  const expected = new Set(assignments.map((a) => a.key));
  const hasTop = names.has('predictions');
  const skipped: string[] = [];
  const extra: string[] = [];
  for (const key of file.entries.keys()) {
    if (expected.has(key)) continue;
    if (key.endsWith('.num_batches_tracked') || (!hasTop && key.startsWith('head.fc.'))) skipped.push(key);
    else extra.push(key);
  }
  const missing = assignments.filter((a) => !file.entries.has(a.key)).map((a) => a.key);
  const wrongShape: string[] = [];
  const notFloat: string[] = [];
  const headMismatch = assignments.some((a) => a.layer.name === 'predictions' && file.entries.has(a.key) && !sameShape(file.entries.get(a.key)!, a.timmShape));
  for (const a of assignments) {
    const entry = file.entries.get(a.key);
    if (!entry) continue;
    if (!file.isFloat(entry)) notFloat.push(`'${a.key}' (${entry.dtype})`);
    if (!sameShape(entry, a.timmShape) && !(headMismatch && a.layer.name === 'predictions' && options.skipMismatch)) {
      wrongShape.push(`'${a.key}' is [${entry.shape.join(', ')}] in the file, [${a.timmShape.join(', ')}] for '${a.layer.name}'`);
    }
  }
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`${missing.length} tensor${missing.length > 1 ? 's' : ''} missing (${list(missing.map((k) => `'${k}'`))})`);
  if (extra.length > 0) problems.push(`${extra.length} extra tensor${extra.length > 1 ? 's' : ''} the model has no place for (${list(extra.map((k) => `'${k}'`))})`);
  if (wrongShape.length > 0) problems.push(`${wrongShape.length} shape${wrongShape.length > 1 ? 's' : ''} differ (${list(wrongShape)})`);
  if (notFloat.length > 0) problems.push(`${notFloat.length} tensor${notFloat.length > 1 ? 's are' : ' is'} not floating-point (${list(notFloat)})`);
  if (problems.length > 0) {
    const hint = headMismatch && !options.skipMismatch ? ' For a head of another size, pass skipMismatch: true (or build with includeTop: false).' : '';
    throw new XceptionWeightsError(
      `${label} does not fit model '${model.name}' (${preactivation ? 'pre-activation ' : ''}aligned Xception, ${assignments.length} weights): ` +
        `${problems.join('; ')}. Nothing was loaded.${hint}`,
    );
  }
  if (headMismatch) {
    for (const a of assignments.filter((x) => x.layer.name === 'predictions')) skipped.push(a.key);
    return { assignments: assignments.filter((a) => a.layer.name !== 'predictions'), skipped };
  }
  return { assignments, skipped };
}

/** The timm module path of one of our layers, or null when it has none. @internal */
export function timmPrefix(layerName: string, preactivation: boolean): string | null {
  if (layerName === 'predictions') return 'head.fc';
  const stem = /^block1_conv([12])(_bn)?$/.exec(layerName);
  if (stem) {
    const index = Number(stem[1]) - 1;
    if (stem[2]) return `stem.${index}.bn`;
    return preactivation && index === 1 ? 'stem.1' : `stem.${index}.conv`;
  }
  const unit = /^block(\d+)_(.+)$/.exec(layerName);
  if (!unit) return null;
  const block = `blocks.${Number(unit[1]) - 2}`;
  const rest = unit[2]!;
  if (rest === 'residual_conv') return preactivation ? `${block}.shortcut` : `${block}.shortcut.conv`;
  if (rest === 'residual_bn') return `${block}.shortcut.bn`;
  if (rest === 'preact_bn') return `${block}.norm`;
  const conv = /^sepconv(\d)_(depthwise|pointwise|bn)(_bn)?$/.exec(rest);
  if (!conv) return null;
  const k = `${block}.stack.conv${conv[1]}`;
  if (conv[2] === 'bn') return conv[3] ? null : `${k}.norm`;
  const part = conv[2] === 'depthwise' ? 'dw' : 'pw';
  return conv[3] ? `${k}.bn_${part}` : `${k}.conv_${part}`;
}

/** The timm parameter name of a tfjs weight role, and the transposition from PyTorch's layout. */
function timmWeight(role: string, rank: number): { suffix: string; perm: number[] | null } {
  switch (role) {
    case 'depthwise_kernel':
      return { suffix: 'weight', perm: [2, 3, 0, 1] }; // (C, 1, kh, kw) → (kh, kw, C, 1)
    case 'kernel':
      return { suffix: 'weight', perm: rank === 4 ? [2, 3, 1, 0] : [1, 0] }; // OIHW → HWIO; (out, in) → (in, out)
    case 'gamma':
      return { suffix: 'weight', perm: null };
    case 'beta':
    case 'bias':
      return { suffix: 'bias', perm: null };
    case 'moving_mean':
      return { suffix: 'running_mean', perm: null };
    case 'moving_variance':
      return { suffix: 'running_var', perm: null };
    default:
      throw new XceptionWeightsError(`loadTimmWeights does not know the weight '${role}'.`);
  }
}

/**
 * `transpose(data, perm)` on a row-major array of `shape`, in plain JS (fast
 * on every backend, no tensor created): output axis i is input axis perm[i].
 */
function permute(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) (inStrides[i] = s), (s *= shape[i]!);
  const outShape = perm.map((axis) => shape[axis]!);
  const strides = perm.map((axis) => inStrides[axis]!); // input stride of each output axis
  const out = new Float32Array(data.length);
  if (rank === 2) {
    const [n0, n1] = outShape as [number, number];
    const [s0, s1] = strides as [number, number];
    let o = 0;
    for (let i = 0; i < n0; i++) for (let j = 0; j < n1; j++) out[o++] = data[i * s0 + j * s1]!;
    return out;
  }
  const [n0, n1, n2, n3] = outShape as [number, number, number, number];
  const [s0, s1, s2, s3] = strides as [number, number, number, number];
  let o = 0;
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      for (let k = 0; k < n2; k++) {
        const base = i * s0 + j * s1 + k * s2;
        for (let l = 0; l < n3; l++) out[o++] = data[base + l * s3]!;
      }
    }
  }
  return out;
}

/** The shape before `transpose(x, perm)` produced `shape`. */
function inversePermute(shape: number[], perm: number[]): number[] {
  const before = new Array<number>(shape.length);
  perm.forEach((axis, i) => (before[axis] = shape[i]!));
  return before;
}

function sameShape(entry: SafetensorsEntry, shape: number[]): boolean {
  return entry.shape.length === shape.length && entry.shape.every((d, i) => d === shape[i]);
}

function list(items: string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … and ${items.length - max} more`;
}
