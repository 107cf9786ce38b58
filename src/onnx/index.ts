/**
 * xception-ts/onnx: export a model to ONNX, classify images with ONNX
 * Runtime, and train models on it (`onnxruntime-node` in Node,
 * `onnxruntime-web` in browsers; both optional peer dependencies), many
 * times faster than TensorFlow.js on a CPU.
 *
 * @example
 * ```ts
 * import { createXception } from 'xception-ts';
 * import { createOnnxClassifier, exportOnnx } from 'xception-ts/onnx';
 *
 * const model = await createXception({ weights: 'imagenet' });
 * const classifier = await createOnnxClassifier({ model: exportOnnx(model) });
 * const top5 = await classifier.classify(imageData);
 *
 * const trainer = await createOnnxTrainer(model, { optimizer: { type: 'adam', learningRate: 1e-3 } });
 * await trainer.fit(images, labels, { epochs: 5 }); // then model.save, exportOnnx, … see the trained weights
 * ```
 *
 * @module xception-ts/onnx
 */

export { exportOnnx, ONNX_OPSET, type ExportOnnxOptions } from './export-onnx.js';
export {
  createOnnxClassifier,
  type ClassScore,
  type OnnxClassifier,
  type OnnxClassifierOptions,
  type OnnxRuntime,
  type OrtSession,
} from './onnx-classifier.js';
/** @category Inference */
export type { Pixels, PixelTensor } from './image-input.js';
export type { ExecutionProvider, OnnxDevice, OnnxDeviceInfo } from './onnx-device.js';
export {
  createOnnxTrainer,
  type OnnxTrainer,
} from '../training/onnx/onnx-trainer.js';
export type {
  LearningRateSchedule,
  OnnxLossOptions,
  OnnxOptimizerOptions,
  OnnxTrainerOptions,
} from '../training/onnx/onnx-trainer-options.js';
export type {
  OnnxBatch,
  OnnxBatchIterator,
  OnnxBatchSource,
  OnnxEvaluateOptions,
  OnnxEvaluation,
  OnnxFitOptions,
  OnnxTrainingCallbacks,
  OnnxTrainingHistory,
  OnnxTrainingLogs,
} from '../training/onnx/onnx-fit-options.js';
