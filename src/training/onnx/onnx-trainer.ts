import { tensor2d, type Tensor, type Tensor2D } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { isDisposedModel } from '../../argument-checks.js';
import { XceptionTrainingError } from '../../errors.js';
import { defaultRuntime } from '../../onnx/default-runtime.js';
import { runsInNode, type OnnxDeviceInfo } from '../../onnx/onnx-device.js';
import { isBatchSource, readBatch, readImages, type BatchSpec } from './batch-input.js';
import { softmaxRows } from './classification-metrics.js';
import { runFit } from './fit-loop.js';
import type { OnnxBatchSource, OnnxEvaluateOptions, OnnxEvaluation, OnnxFitOptions, OnnxTrainingHistory } from './onnx-fit-options.js';
import { requireBatchSize, requireOptionsObject, resolveTrainerOptions, type OnnxTrainerOptions } from './onnx-trainer-options.js';
import { seededRandom } from './seeded-random.js';
import { createTrainerSessions, type TensorConstructor } from './trainer-sessions.js';
import { TrainingEngine } from './training-engine.js';

/**
 * A model being trained on ONNX Runtime: {@link createOnnxTrainer}'s result.
 * The weights, BatchNormalization's moving statistics and the optimizer's
 * state live in ONNX Runtime tensors between steps; {@link OnnxTrainer.syncToModel}
 * (and the end of {@link OnnxTrainer.fit}) writes them back into the tfjs model.
 *
 * @example
 * ```ts
 * const trainer = await createOnnxTrainer(model, { batchSize: 16 });
 * const history = await trainer.fit(images, labels, { epochs: 5, validationData: [valImages, valLabels] });
 * await model.save('file://./trained'); // fit synced the weights back
 * await trainer.dispose();
 * ```
 * @category Training
 */
export interface OnnxTrainer {
  /** The model's input, `[height, width, channels]`. */
  readonly inputShape: readonly [number, number, number];
  /** The number of classes (the model's outputs). */
  readonly classes: number;
  /** The device the training runs on (`'cpu'`, `'webgpu'` or `'cuda'`), its execution providers, and why it was picked. */
  readonly device: OnnxDeviceInfo;
  /** Training steps done so far (the `step` a learning-rate schedule receives next). */
  readonly step: number;
  /** Set it to true (e.g. in a callback) to end {@link OnnxTrainer.fit} after the current batch. */
  stopTraining: boolean;
  /**
   * One optimizer step on a batch: images NHWC `[batch, height, width, channels]`
   * (preprocessed as the model expects), labels one-hot `[batch, classes]` (or
   * class ids `[batch]` with the sparse loss). Resolves to the batch's mean loss.
   */
  trainOnBatch(images: Tensor, labels: Tensor): Promise<number>;
  /**
   * Trains for `epochs` over images and labels (shuffled each epoch), evaluates
   * `validationData` after each epoch, calls the callbacks, and at the end
   * writes the trained weights back into the model ({@link OnnxTrainer.syncToModel}).
   */
  fit(images: Tensor, labels: Tensor, options?: OnnxFitOptions): Promise<OnnxTrainingHistory>;
  /** The same over a batch source (e.g. a batched `tf.data` dataset), re-iterated each epoch. */
  fit(batches: OnnxBatchSource, options?: OnnxFitOptions): Promise<OnnxTrainingHistory>;
  /** Mean loss and accuracy on images and labels, with BatchNormalization in inference mode. */
  evaluate(images: Tensor, labels: Tensor, options?: OnnxEvaluateOptions): Promise<OnnxEvaluation>;
  /** The same over a batch source. */
  evaluate(batches: OnnxBatchSource): Promise<OnnxEvaluation>;
  /** The model's class probabilities (softmax of the logits) for images, from the current training state. */
  predict(images: Tensor, options?: OnnxEvaluateOptions): Promise<Tensor2D>;
  /**
   * Writes the trained weights and moving statistics into the tfjs model's
   * variables, so that `model.predict`, `model.save`, `exportOnnx` and
   * `optimizeForInference` see them. All of them or, on error, none.
   */
  syncToModel(): Promise<void>;
  /** Releases the sessions and the training state. Calling it again does nothing. */
  dispose(): Promise<void>;
}

/**
 * Creates a trainer that trains an Xception built by this library on ONNX
 * Runtime: the model becomes one ONNX training graph (forward pass, its
 * derived backward pass and the optimizer update, in standard operators),
 * run by `onnxruntime-node` (CPU; the GPU through WebGPU — Dawn over Vulkan,
 * Metal or D3D12, no CUDA toolkit — or CUDA) or `onnxruntime-web` (wasm, WebGPU).
 * `device: 'auto'` (the default) picks CUDA, then a real GPU through WebGPU, else
 * the CPU; {@link OnnxTrainer.device} says which and why. Dropout masks come from a seeded generator in JavaScript; the
 * learning rate is an input of the graph, so schedules cost nothing.
 *
 * Transfer learning: the weights and moving statistics of frozen layers (e.g. after
 * `freezeBackbone`) are constants of the graphs, taken from the model when the trainer builds
 * them, so ONNX Runtime prepacks them as for inference, and the backward pass stops at the
 * lowest trainable layer. When the model's trainable set changes (`freezeBackbone`,
 * `unfreeze`, `layer.trainable = …`, between `fit` calls or in a callback), the next step
 * notices it, writes the trained weights into the model, and rebuilds the sessions for the new
 * set, keeping the optimizer state of the weights that stay trainable. That costs what a new
 * trainer's first step does (a graph build, a session, ONNX Runtime's first run): for the Keras
 * Xception at 150×150, batch 8, on 2 cores, about 1 s to freeze its backbone and 5 s to unfreeze
 * it. Frozen weights keep the values they had when the graph was built: change them through a
 * new trainer.
 *
 * @param model - A model from `createXception` (or built from this library's blocks), with a softmax or linear classifier on top.
 * @param options - See {@link OnnxTrainerOptions}.
 * @throws {@link xception-ts!XceptionTrainingError} for bad options or a layer the graph cannot train (it names the layer);
 *   {@link xception-ts!XceptionDeviceError} when the device asked for is not there (it names what was found);
 *   {@link xception-ts!XceptionConfigError} when ONNX Runtime is missing.
 *
 * @example
 * ```ts
 * // Node: npm install onnxruntime-node
 * import { createXception } from 'xception-ts';
 * import { createOnnxTrainer } from 'xception-ts/onnx';
 *
 * const model = createXception({ preset: 'postact', inputShape: [32, 32, 1], numClasses: 10 });
 * const trainer = await createOnnxTrainer(model, { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 32 });
 * console.log(trainer.device.device, trainer.device.reason); // e.g. 'webgpu', 'auto: no CUDA provider library; WebGPU on Vulkan …'
 * const loss = await trainer.trainOnBatch(images, oneHotLabels);
 * const { history } = await trainer.fit(images, oneHotLabels, { epochs: 3, validationData: [testImages, testLabels] });
 * ```
 *
 * @example
 * ```ts
 * // Browser: npm install onnxruntime-web
 * import * as ort from 'onnxruntime-web';
 * const trainer = await createOnnxTrainer(model, { ort, device: 'webgpu', batchSize: 8 }); // or 'cpu' (wasm), 'auto'
 * ```
 * @category Training
 */
export async function createOnnxTrainer(model: LayersModel, options: OnnxTrainerOptions = {}): Promise<OnnxTrainer> {
  const settings = resolveTrainerOptions(options);
  const { inputShape, classes } = describeModel(model);
  const ort = options.ort ?? (await defaultRuntime('createOnnxTrainer'));
  const spec: BatchSpec = { inputShape, classes, sparse: settings.loss.type === 'sparseCategoricalCrossentropy' };
  const random = seededRandom(settings.seed);
  const fillsPreallocatedOutputs = runsInNode(ort);
  const sessions = createTrainerSessions(model, ort, settings);

  // The first training graph is built now, so that a layer it cannot train fails here.
  const first = await sessions.training(settings.batchSize);
  let engine: TrainingEngine;
  try {
    if (first.graph.classes !== classes) {
      throw new XceptionTrainingError(`the training graph has ${first.graph.classes} classes, but the model has ${classes} outputs.`);
    }
    engine = new TrainingEngine(model, sessions, ort.Tensor as unknown as TensorConstructor, settings, spec, first.graph, random, fillsPreallocatedOutputs);
  } catch (error) {
    await sessions.releaseAll();
    throw error;
  }
  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve();
  let inCallbacks = 0;

  /**
   * Runs public methods one at a time (each reads and replaces the whole state). From
   * inside fit's callbacks (fit holds the turn), evaluate, predict and syncToModel run at once.
   */
  const exclusive = <T>(name: string, work: () => Promise<T>): Promise<T> => {
    if (inCallbacks > 0) {
      if (name === 'fit' || name === 'trainOnBatch') {
        return Promise.reject(new XceptionTrainingError(`${name} cannot be called from fit's callbacks; set trainer.stopTraining = true and call it once fit has resolved.`));
      }
      return work();
    }
    const run = queue.then(() => {
      if (disposed) throw new XceptionTrainingError(`${name}: the trainer was disposed; create a new one with createOnnxTrainer.`);
      return work();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const fit = (source: Parameters<typeof runFit>[1], options: OnnxFitOptions): Promise<OnnxTrainingHistory> =>
    runFit(
      {
        engine,
        defaultBatchSize: settings.batchSize,
        random,
        control: trainer,
        runCallback: async (callback, ...args) => {
          if (!callback) return;
          inCallbacks++;
          try {
            await callback(...args);
          } finally {
            inCallbacks--;
          }
        },
      },
      source,
      options,
    );

  const trainer: OnnxTrainer = {
    inputShape,
    classes,
    device: sessions.device()!,
    get step() {
      return engine.step;
    },
    stopTraining: false,
    trainOnBatch: (images, labels) =>
      exclusive('trainOnBatch', async () => {
        const data = readBatch(images, labels, 'trainOnBatch', spec);
        return (await engine.trainStep(data.images, data.labels, data.count)).loss;
      }),
    fit: ((imagesOrSource: Tensor | OnnxBatchSource, labelsOrOptions?: Tensor | OnnxFitOptions, maybeOptions?: OnnxFitOptions) =>
      exclusive('fit', async () => {
        if (isBatchSource(imagesOrSource)) return fit(imagesOrSource, (labelsOrOptions as OnnxFitOptions | undefined) ?? {});
        return fit(readBatch(imagesOrSource, labelsOrOptions as Tensor, 'fit', spec), maybeOptions ?? {});
      })) as OnnxTrainer['fit'],
    evaluate: ((imagesOrSource: Tensor | OnnxBatchSource, labels?: Tensor, options: OnnxEvaluateOptions = {}) =>
      exclusive('evaluate', async (): Promise<OnnxEvaluation> => {
        requireOptionsObject('evaluate', options, EVALUATE_OPTIONS);
        const batch = options.batchSize ?? settings.batchSize;
        requireBatchSize(batch, 'evaluate');
        return engine.evaluate(isBatchSource(imagesOrSource) ? imagesOrSource : [imagesOrSource, labels!], batch);
      })) as OnnxTrainer['evaluate'],
    predict: (images, options = {}) =>
      exclusive('predict', async () => {
        requireOptionsObject('predict', options, EVALUATE_OPTIONS);
        const batch = options.batchSize ?? settings.batchSize;
        requireBatchSize(batch, 'predict');
        const { values, count } = readImages(images, 'predict', inputShape);
        return tensor2d(softmaxRows(await engine.logits(values, count, batch), classes), [count, classes]);
      }),
    syncToModel: () => exclusive('syncToModel', () => engine.syncToModel()),
    dispose: async () => {
      if (disposed) return;
      await queue;
      if (disposed) return;
      disposed = true;
      engine.clear();
      await sessions.releaseAll();
    },
  };
  return trainer;
}

const EVALUATE_OPTIONS = ['batchSize'];

/** The model's input shape and class count, refusing what is not an image classifier. */
function describeModel(model: LayersModel): { inputShape: [number, number, number]; classes: number } {
  if (!model || !Array.isArray(model.inputs) || !Array.isArray(model.outputs)) {
    throw new XceptionTrainingError('createOnnxTrainer expects a tf.LayersModel (e.g. from createXception).');
  }
  if (isDisposedModel(model)) {
    throw new XceptionTrainingError(`createOnnxTrainer: the model '${model.name}' has been disposed (its weights were freed); pass a live model.`);
  }
  const input = model.inputs.length === 1 ? model.inputs[0]!.shape : [];
  const output = model.outputs.length === 1 ? model.outputs[0]!.shape : [];
  const [, height, width, channels] = input;
  if (input.length !== 4 || !height || !width || !channels) {
    throw new XceptionTrainingError(`createOnnxTrainer: the model must have one NHWC image input of fixed size; got inputs [${model.inputs.map((i) => `[${i.shape.map((d) => d ?? '?')}]`).join(', ')}].`);
  }
  if (output.length !== 2 || !output[1]) {
    throw new XceptionTrainingError(`createOnnxTrainer: the model must have one [batch, classes] output (a classifier); got outputs [${model.outputs.map((o) => `[${o.shape.map((d) => d ?? '?')}]`).join(', ')}].`);
  }
  return { inputShape: [height, width, channels], classes: output[1] };
}
