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
 * What {@link TrainingGraph} state entries hold. A frozen layer's weights and
 * moving statistics (and any other variable no step changes) are not state:
 * they are initializers of the graph (see {@link FrozenWeight}).
 */
export type StateKind = 'trainable' | 'movingStatistic' | 'optimizerSlot' | 'step';

/**
 * A variable no training step changes (a frozen layer's weight or moving statistic), held by
 * the graph as an initializer with the model's value when the graph was built, in the graph's
 * layout: ONNX Runtime then prepacks it like an inference model's weight. Nothing feeds it.
 */
export interface FrozenWeight {
  /** The initializer's name (the variable's name). */
  name: string;
  /** Its shape in the ONNX graph's layout. */
  shape: number[];
  variable: LayerVariable;
}

/** One tensor of training state: fed as `input`, returned updated as `output`. */
export interface StateEntry {
  /** Graph input name. */
  input: string;
  /** Graph output name of its updated value (fed back as `input` on the next step); equals `input` when the graph only reads it. */
  output: string;
  /** Shape in the ONNX graph's layout (e.g. OIHW for convolutions). */
  shape: number[];
  kind: StateKind;
  /**
   * For 'trainable' and 'movingStatistic': the tfjs variable it mirrors, and how to
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
  /** The frozen variables, held as initializers (not in `state`). */
  frozen: FrozenWeight[];
  /** The `trainingSplit` key of the model when the graph was built: the graph trains exactly that split. */
  split: string;
  /**
   * Only when built with `outputGradients`: each trainable state input's gradient
   * output (the mean loss's gradient, before weight decay), for tests.
   */
  gradients?: Record<string, string>;
}

/** A forward-only graph over the same state inputs (BN in inference mode) for evaluate/predict. */
export interface EvaluationGraph {
  bytes: Uint8Array;
  /** The subset of state inputs it reads ('trainable' and 'movingStatistic'), same names as the training graph. */
  state: StateEntry[];
  images: string;
  labels: string;
  loss: string;
  logits: string;
  classes: number;
  /** The frozen variables, held as initializers, as in the training graph of the same split. */
  frozen: FrozenWeight[];
  /** The `trainingSplit` key of the model when the graph was built. */
  split: string;
}
