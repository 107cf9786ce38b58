import { XceptionTrainingError } from '../../errors.js';
import type { LossConfig, OptimizerConfig } from './graph/training-graph.js';
import type { OnnxRuntime } from '../../onnx/onnx-classifier.js';
import { requireDevice, type ExecutionProvider, type OnnxDevice } from '../../onnx/onnx-device.js';

/**
 * A learning rate that changes during training: called before every step with
 * the epoch (0-based; the epoch `fit` is in, or the number of epochs `fit` has
 * finished for a bare `trainOnBatch`) and the step (0-based count of the
 * batches this trainer has trained on), it returns the rate for that step.
 *
 * @example
 * ```ts
 * // Cosine decay from 1e-3 to 0 over 10 epochs of 100 steps.
 * const cosine: LearningRateSchedule = (_epoch, step) => 0.5e-3 * (1 + Math.cos((Math.PI * step) / 1000));
 * ```
 * @category Training
 */
export type LearningRateSchedule = (epoch: number, step: number) => number;

/**
 * The optimizer of {@link OnnxTrainerOptions}: SGD (with momentum, Nesterov),
 * Adam or AdamW, with the defaults of Keras (Adam: learning rate 1e-3, β₁ 0.9,
 * β₂ 0.999, ε 1e-7; SGD: learning rate 0.01). `learningRate` may be a
 * {@link LearningRateSchedule}; it is fed to the graph each step, so changing
 * it never rebuilds anything.
 *
 * @example
 * ```ts
 * const adamw: OnnxOptimizerOptions = { type: 'adamw', learningRate: 3e-4, weightDecay: 0.05 };
 * const sgd: OnnxOptimizerOptions = { type: 'sgd', learningRate: (epoch) => 0.1 * 0.5 ** epoch, momentum: 0.9, nesterov: true };
 * ```
 * @category Training
 */
export type OnnxOptimizerOptions =
  | {
      /** Stochastic gradient descent. */
      type: 'sgd';
      /** A number or a schedule. Default 0.01. */
      learningRate?: number | LearningRateSchedule;
      /** Default 0 (plain SGD). */
      momentum?: number;
      /** Default false. */
      nesterov?: boolean;
      /** L2 weight decay added to the gradient (coupled, as torch.optim.SGD). Default 0. */
      weightDecay?: number;
    }
  | {
      /** Adam, or AdamW (decoupled weight decay, Loshchilov & Hutter). */
      type: 'adam' | 'adamw';
      /** A number or a schedule. Default 1e-3. */
      learningRate?: number | LearningRateSchedule;
      /** Default 0.9. */
      beta1?: number;
      /** Default 0.999. */
      beta2?: number;
      /** Default 1e-7 (tfjs' and Keras' default). */
      epsilon?: number;
      /** 'adam': L2 added to the gradient; 'adamw': decoupled decay. Default 0 ('adam'), 0.01 ('adamw'). */
      weightDecay?: number;
    };

/**
 * The loss of {@link OnnxTrainerOptions}: `'categoricalCrossentropy'` takes
 * one-hot labels `[batch, classes]`, `'sparseCategoricalCrossentropy'` takes
 * class ids `[batch]` (int32 or float32 holding integers). An object adds
 * Keras' label smoothing (targets (1 − s)·y + s / classes).
 *
 * @example
 * ```ts
 * const loss: OnnxLossOptions = { type: 'categoricalCrossentropy', labelSmoothing: 0.1 };
 * ```
 * @category Training
 */
export type OnnxLossOptions =
  | 'categoricalCrossentropy'
  | 'sparseCategoricalCrossentropy'
  | {
      /** The loss. */
      type: 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy';
      /** Label smoothing s in [0, 1). Default 0. */
      labelSmoothing?: number;
    };

/**
 * Options of {@link createOnnxTrainer}.
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-web';
 *
 * const options: OnnxTrainerOptions = {
 *   optimizer: { type: 'adam', learningRate: 1e-3 },
 *   loss: 'categoricalCrossentropy',
 *   batchSize: 16,
 *   ort,
 *   executionProviders: ['wasm'],
 * };
 * ```
 * @category Training
 */
export interface OnnxTrainerOptions {
  /** Default `{ type: 'adam', learningRate: 1e-3 }`. */
  optimizer?: OnnxOptimizerOptions;
  /** Default `'categoricalCrossentropy'`. */
  loss?: OnnxLossOptions;
  /**
   * The batch the training graph is built for, and `fit`'s and `evaluate`'s
   * default. Other batch sizes (a last, smaller batch) get their own session,
   * built the first time they occur. Default 32.
   */
  batchSize?: number;
  /**
   * The ONNX Runtime module. Default: `onnxruntime-node`, imported in Node; in
   * a browser pass `onnxruntime-web` (`import * as ort from 'onnxruntime-web'`).
   */
  ort?: OnnxRuntime;
  /**
   * Where to train: `'auto'` (CUDA when onnxruntime-node's CUDA provider is installed, then
   * WebGPU on a real GPU, never a software adapter, else the CPU), `'cpu'`, `'webgpu'` or
   * `'cuda'`. An explicit device that is not there throws {@link xception-ts!XceptionDeviceError}
   * naming what was found; {@link OnnxTrainer.device} tells what was picked and why. Not
   * together with `executionProviders`. Default `'auto'`.
   */
  device?: OnnxDevice;
  /**
   * ONNX Runtime's execution providers, in order of preference, instead of `device`: e.g.
   * `['coreml', 'cpu']` (macOS), `['dml', 'cpu']` (Windows), or a provider with options
   * (`{ name: 'cuda', deviceId: 1 }`). Default: from `device`.
   */
  executionProviders?: readonly ExecutionProvider[];
  /** Threads of ONNX Runtime's CPU provider (`intraOpNumThreads`). Default: ONNX Runtime's (one per physical core). */
  threads?: number;
  /** More `InferenceSession` options, merged over the defaults (`graphOptimizationLevel: 'all'`). */
  sessionOptions?: Record<string, unknown>;
  /** Seed of the dropout masks and of `fit`'s shuffling. Default 1. */
  seed?: number;
}

/** {@link OnnxTrainerOptions} with defaults applied and checked. @internal */
export interface ResolvedTrainerOptions {
  optimizer: OptimizerConfig;
  learningRate: LearningRateSchedule;
  loss: LossConfig;
  batchSize: number;
  sessionOptions: Record<string, unknown>;
  /** The device, or the execution providers given instead. */
  device: OnnxDevice | { executionProviders: readonly ExecutionProvider[] };
  seed: number;
}

const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
const LOSSES = ['categoricalCrossentropy', 'sparseCategoricalCrossentropy'] as const;

/** Applies the defaults and refuses what cannot work, naming the option and what is allowed. @internal */
export function resolveTrainerOptions(options: OnnxTrainerOptions): ResolvedTrainerOptions {
  requireOptionsObject('createOnnxTrainer', options, TRAINER_OPTIONS);
  if (options.ort !== undefined) {
    const ort = options.ort as { InferenceSession?: { create?: unknown }; Tensor?: unknown } | null;
    if (ort === null || typeof ort !== 'object' || typeof ort.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') {
      throw new XceptionTrainingError(
        `ort must be an ONNX Runtime module (onnxruntime-node or onnxruntime-web) with InferenceSession and Tensor; got ${describeValue(options.ort)}.`,
      );
    }
  }
  const { optimizer = { type: 'adam' }, batchSize = 32, seed = 1 } = options;
  if (!optimizer || !OPTIMIZERS.includes(optimizer.type as (typeof OPTIMIZERS)[number])) {
    throw new XceptionTrainingError(`optimizer.type must be one of ${OPTIMIZERS.map((o) => `'${o}'`).join(', ')}; got ${JSON.stringify(optimizer?.type)}.`);
  }
  const { learningRate = optimizer.type === 'sgd' ? 0.01 : 1e-3, ...settings } = optimizer;
  if (typeof learningRate === 'number') {
    if (!(Number.isFinite(learningRate) && learningRate >= 0)) {
      throw new XceptionTrainingError(`optimizer.learningRate must be a finite number ≥ 0 or a function (epoch, step) => rate; got ${learningRate}.`);
    }
  } else if (typeof learningRate !== 'function') {
    throw new XceptionTrainingError(`optimizer.learningRate must be a finite number ≥ 0 or a function (epoch, step) => rate; got ${JSON.stringify(learningRate)}.`);
  }
  for (const key of ['momentum', 'beta1', 'beta2', 'epsilon', 'weightDecay'] as const) {
    const value = (settings as Record<string, unknown>)[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new XceptionTrainingError(`optimizer.${key} must be a finite number ≥ 0; got ${JSON.stringify(value)}.`);
    }
  }
  const loss: LossConfig = typeof options.loss === 'string' || options.loss === undefined ? { type: options.loss ?? 'categoricalCrossentropy' } : options.loss;
  if (!LOSSES.includes(loss.type)) {
    throw new XceptionTrainingError(`loss must be one of ${LOSSES.map((l) => `'${l}'`).join(', ')}; got ${JSON.stringify(loss.type)}.`);
  }
  const smoothing = loss.labelSmoothing ?? 0;
  if (!(Number.isFinite(smoothing) && smoothing >= 0 && smoothing < 1)) {
    throw new XceptionTrainingError(`loss.labelSmoothing must be a number in [0, 1); got ${loss.labelSmoothing}.`);
  }
  requireBatchSize(batchSize);
  if (!Number.isFinite(seed)) throw new XceptionTrainingError(`seed must be a finite number; got ${seed}.`);
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new XceptionTrainingError(`threads must be a positive integer; got ${options.threads}.`);
  }
  const { executionProviders: providersInSessionOptions, ...sessionOptions } = {
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    ...options.sessionOptions,
  } as Record<string, unknown>;
  const executionProviders = options.executionProviders ?? (providersInSessionOptions as OnnxTrainerOptions['executionProviders']);
  if (executionProviders !== undefined && options.device !== undefined) {
    throw new XceptionTrainingError(`pass device or executionProviders, not both; got device ${JSON.stringify(options.device)} and executionProviders ${JSON.stringify(executionProviders)}.`);
  }
  if (executionProviders !== undefined && !(Array.isArray(executionProviders) && executionProviders.length > 0 && executionProviders.every(isProvider))) {
    throw new XceptionTrainingError(`executionProviders must be a non-empty array of provider names or { name, ...options } objects; got ${describeValue(executionProviders)}.`);
  }
  const device = executionProviders ? { executionProviders } : requireDevice(options.device ?? 'auto', 'createOnnxTrainer', XceptionTrainingError);
  return {
    optimizer: { ...settings, type: optimizer.type } as OptimizerConfig,
    learningRate: typeof learningRate === 'number' ? () => learningRate : learningRate,
    loss,
    batchSize,
    sessionOptions,
    device,
    seed,
  };
}

const TRAINER_OPTIONS = ['optimizer', 'loss', 'batchSize', 'ort', 'device', 'executionProviders', 'threads', 'sessionOptions', 'seed'];

function isProvider(value: unknown): boolean {
  return (typeof value === 'string' && value.length > 0) || (typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string');
}

/**
 * The largest batch the trainer accepts: 65,536 images of 71 × 71 × 3 (the
 * smallest full Xception input) are already 4 GB of float32 input. @internal
 */
export const MAX_TRAINER_BATCH_SIZE = 65_536;

/** Requires a batch size from 1 to {@link MAX_TRAINER_BATCH_SIZE}; `where` prefixes the message. @internal */
export function requireBatchSize(batch: unknown, where?: string): void {
  if (!(Number.isInteger(batch) && (batch as number) >= 1 && (batch as number) <= MAX_TRAINER_BATCH_SIZE)) {
    throw new XceptionTrainingError(
      `${where ? `${where}: ` : ''}batchSize must be a positive integer up to ${MAX_TRAINER_BATCH_SIZE}; got ${describeValue(batch)}.`,
    );
  }
}

/** Refuses options that are not an object (undefined is fine) or that hold an unknown (e.g. misspelt) key. @internal */
export function requireOptionsObject(what: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new XceptionTrainingError(`${what} options must be an object or undefined; got ${describeValue(options)}.`);
  }
  if (Object.getPrototypeOf(options) !== Object.prototype && Object.getPrototypeOf(options) !== null) {
    throw new XceptionTrainingError(`${what} options must be an object or undefined; got ${describeValue(options)}.`);
  }
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new XceptionTrainingError(
      `unknown ${what} option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
        `valid options are ${known.map((k) => `'${k}'`).join(', ')}.`,
    );
  }
}

/** `null`, `"text"`, `5`, `an array`, `a Tensor`: a value, for a message. @internal */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return String(value);
}
