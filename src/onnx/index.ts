/**
 * xception-ts/onnx: export a model to ONNX, and classify images with ONNX
 * Runtime (`onnxruntime-node` in Node, `onnxruntime-web` in browsers; both
 * optional peer dependencies), several times faster than TensorFlow.js on a CPU.
 *
 * @example
 * ```ts
 * import { createXception } from 'xception-ts';
 * import { createOnnxClassifier, exportOnnx } from 'xception-ts/onnx';
 *
 * const model = await createXception({ weights: 'imagenet' });
 * const classifier = await createOnnxClassifier({ model: exportOnnx(model) });
 * const top5 = await classifier.classify(imageData);
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
export type { Pixels, PixelTensor } from './image-input.js';
