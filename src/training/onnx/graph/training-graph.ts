import type { LayerVariable } from '@tensorflow/tfjs-layers';

/**
 * The contract between the ONNX training-graph builder
 * (`buildTrainingGraph` in this folder) and the trainer in `src/onnx/onnx-trainer.ts`.
 * Internal: not exported from the package.
 */

/** Optimizer settings baked into a training graph (the learning rate is a graph input). */
export type OptimizerConfig =
  | {
      type: 'sgd';
      /** Default 0.01. */
      learningRate?: number;
      /** Default 0 (plain SGD). */
      momentum?: number;
      /** Default false. */
      nesterov?: boolean;
      /** L2 weight decay added to the gradient (coupled, as torch.optim.SGD). Default 0. */
      weightDecay?: number;
    }
  | {
      type: 'adam' | 'adamw';
      /** Default 1e-3. */
      learningRate?: number;
      /** Default 0.9. */
      beta1?: number;
      /** Default 0.999. */
      beta2?: number;
      /** Default 1e-7 (tfjs' and Keras' default). */
      epsilon?: number;
      /** 'adam': L2 added to the gradient; 'adamw': decoupled decay (Loshchilov & Hutter). Default 0 ('adam'), 0.01 ('adamw'). */
      weightDecay?: number;
    };

/** Loss baked into a training graph. */
export interface LossConfig {
  /** 'categoricalCrossentropy' (one-hot labels [batch, classes]) or 'sparseCategoricalCrossentropy' (int class ids [batch]). */
  type: 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy';
  /** Label smoothing as Keras: targets (1 − s)·y + s / classes. Default 0. */
  labelSmoothing?: number;
}

/**
 * What {@link TrainingGraph} state entries hold. 'frozen': a weight or moving
 * statistic of a frozen layer (not in `model.trainableWeights`) that the graph
 * reads but never changes; its `output` equals its `input` (no graph output:
 * keep feeding the same value).
 */
export type StateKind = 'trainable' | 'movingStatistic' | 'optimizerSlot' | 'step' | 'frozen';

/** One tensor of training state: fed as `input`, returned updated as `output`. */
export interface StateEntry {
  /** Graph input name. */
  input: string;
  /** Graph output name of its updated value (fed back as `input` on the next step); equals `input` for 'frozen'. */
  output: string;
  /** Shape in the ONNX graph's layout (e.g. OIHW for convolutions). */
  shape: number[];
  kind: StateKind;
  /**
   * For 'trainable', 'movingStatistic' and 'frozen': the tfjs variable it mirrors, and how to
   * turn the tfjs value into the ONNX value and back: `toOnnx` transposes by `perm`, then
   * reshapes; `fromOnnx` reshapes, then transposes by `perm`. Absent: the same layout.
   */
  variable?: LayerVariable;
  toOnnx?: { perm?: number[]; reshape?: number[] };
  fromOnnx?: { perm?: number[]; reshape?: number[] };
  /** For 'optimizerSlot' and 'step': the initial value (zeros for slots, 0 for the step). */
  initial?: number;
}

/** An ONNX training graph and how to feed it. */
export interface TrainingGraph {
  /** The serialized ONNX model (standard operators only, opset 17 or later). */
  bytes: Uint8Array;
  /** Every state tensor, in graph-input order. */
  state: StateEntry[];
  /** NHWC float32 images [batch, h, w, c]. */
  images: string;
  /** Labels: float32 [batch, classes], or float32 class ids [batch] (sparse). */
  labels: string;
  /** Scalar float32 learning rate (schedules are computed in JS). */
  learningRate: string;
  /**
   * Dropout keep masks, one per Dropout layer with rate > 0: float32 inputs of the given shape
   * (batch first, then the layer's tfjs layout: [batch, features] or NHWC), values 0 or 1/(1 − rate).
   */
  dropoutMasks: { input: string; rate: number; shape: (number | 'batch')[] }[];
  /** Scalar float32 mean loss of the batch. */
  loss: string;
  /** [batch, classes] logits (before the model's softmax). */
  logits: string;
  /** Scalar float32 sum of every updated state tensor: finite exactly when the whole new state is (barring overflow of the sum). */
  stateSum: string;
  /** Number of classes. */
  classes: number;
  /**
   * Only when built with `outputGradients`: each trainable state input's gradient
   * output (the mean loss's gradient, before weight decay), for tests.
   */
  gradients?: Record<string, string>;
}

/** A forward-only graph over the same state inputs (BN in inference mode) for evaluate/predict. */
export interface EvaluationGraph {
  bytes: Uint8Array;
  /** The subset of state inputs it reads ('trainable', 'movingStatistic' and 'frozen'), same names as the training graph. */
  state: StateEntry[];
  images: string;
  labels: string;
  loss: string;
  logits: string;
  classes: number;
}
