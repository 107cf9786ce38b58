/**
 * xception-ts: the Xception CNN (Chollet 2017) for TensorFlow.js.
 *
 * - {@link createXception} builds the whole model, Keras Applications-exact by default.
 * - {@link separableBlock}, {@link entryFlow}, {@link middleFlow} and
 *   {@link exitFlow} compose on tfjs symbolic tensors like Keras layers.
 * - {@link createXceptionBackbone} builds a multi-scale feature extractor
 *   (output stride 8, 16 or 32) for segmentation and detection heads.
 * - {@link XCEPTION_PRESETS} lists the variants as data: Keras Applications'
 *   Xception, the course material's post-activation variant, and DeepLab's
 *   aligned Xception-41/65/71.
 * - {@link loadKerasModel} loads any Keras model file (Keras 1 to 3, `.h5` or `.keras`);
 *   {@link saveKerasWeights} and {@link saveKerasModel} write Keras files back.
 * - {@link loadKerasWeights} reads Keras HDF5 weights; {@link optimizeForInference}
 *   folds BatchNormalization for faster predictions; {@link enableWasmTraining}
 *   lets the wasm backend train.
 * - {@link gradCam} and {@link overlayHeatmap} show where the evidence for a
 *   class sits; {@link createXceptionClassifier}, {@link freezeBackbone} and
 *   {@link unfreeze} follow keras.io's transfer-learning recipe.
 * - `xception-ts/onnx` exports to ONNX and classifies with ONNX Runtime.
 *
 * The package never imports a TensorFlow.js backend: import
 * `@tensorflow/tfjs`, `@tensorflow/tfjs-node(-gpu)` or a backend package and
 * pick one before building a model.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createXception } from 'xception-ts';
 *
 * await tf.ready();
 * const model = createXception({ numClasses: 10, inputShape: [150, 150, 3] });
 * const probabilities = model.predict(tf.zeros([1, 150, 150, 3])) as tf.Tensor;
 * ```
 *
 * @module xception-ts
 */

export type { OutputStride } from './model/atrous.js';
export { registerXceptionLayers } from './model/atrous-layers.js';
export { createXception } from './model/create-xception.js';
export {
  createXceptionBackbone,
  type FeatureInfo,
  type XceptionBackbone,
  type XceptionBackboneOptions,
} from './model/create-xception-backbone.js';
export { entryFlow, type EntryFlowOptions } from './model/entry-flow.js';
export {
  XceptionConfigError,
  XceptionDataError,
  XceptionDeviceError,
  XceptionDownloadError,
  XceptionError,
  XceptionImageError,
  XceptionModelFileError,
  XceptionTrainingError,
  XceptionWeightsError,
} from './errors.js';
export { IMAGE_LIMITS } from './data/image-limits.js';
export { loadImage, type ImageSource, type LoadImageOptions } from './data/load-image.js';
export { exitFlow, type ExitFlowOptions } from './model/exit-flow.js';
export type { FlowOptions } from './model/flow-options.js';
export { countParameters, layerTable, type LayerRow, type ParameterCounts } from './model/layer-table.js';
export { optimizeForInference, type InferenceModel } from './inference/optimize-for-inference.js';
export { enableWasmTraining } from './training/wasm-training.js';
export { useWasmBackend, type UseWasmBackendOptions, type WasmBackendInfo } from './platform/use-wasm-backend.js';
export {
  assertWasmTrainingFits,
  estimateWasmTrainingMemory,
  WASM_HEAP_LIMIT_BYTES,
  type WasmTrainingMemory,
} from './training/wasm-training-memory.js';
export { XCEPTION_LIMITS } from './model/limits.js';
export { middleFlow, type MiddleFlowOptions } from './model/middle-flow.js';
export {
  getPreset,
  listPresets,
  XCEPTION_PRESETS,
  type AlignedUnit,
  type AlignedXceptionPreset,
  type BlockActivation,
  type ClassicXceptionPreset,
  type MiniXceptionPreset,
  type MiniXceptionPresetName,
  type Padding,
  type XceptionPreset,
  type XceptionPresetName,
} from './model/presets.js';
export { separableBlock, type SeparableBlockOptions } from './model/separable-block.js';
export type { PretrainedXceptionOptions, XceptionOptions, XceptionPooling, XceptionWeights } from './model/xception-options.js';
export type { ChecksummedWeights } from './weights/download-verified.js';
export { PRETRAINED_CONFIGS, type PretrainedConfig } from './weights/pretrained-configs.js';
export {
  loadKerasWeights,
  type LoadKerasWeightsOptions,
  type LoadKerasWeightsResult,
} from './weights/load-keras-weights.js';
export type { WeightsSource } from './weights/weights-source.js';
export type { DownloadOptions, DownloadProgress } from './platform/fetch-bytes.js';
export {
  loadTimmWeights,
  type LoadTimmWeightsOptions,
  type LoadTimmWeightsResult,
} from './weights/load-timm-weights.js';
export { loadKerasModel, type LoadKerasModelOptions } from './keras/load-keras-model.js';
export { saveKerasWeights, type SaveKerasWeightsOptions } from './keras/save-keras-weights.js';
export { saveKerasModel } from './keras/save-keras-model.js';
export { inspectKerasFile, type InspectKerasFileOptions, type KerasFileLayer, type KerasFileSummary } from './keras/inspect-keras-file.js';
export { KERAS_FILE_LIMITS } from './keras/keras-file-limits.js';
export { gradCam, type GradCamOptions, type GradCamResult } from './explain/grad-cam.js';
export type { HeatmapColormap } from './explain/colormap.js';
export { overlayHeatmap, type OverlayHeatmapOptions, type RgbaPixels } from './explain/overlay-heatmap.js';
export type { Pixels } from './onnx/image-input.js';
export {
  freezeBackbone,
  unfreeze,
  type FreezeBackboneOptions,
  type FreezeSummary,
  type UnfreezeOptions,
} from './transfer/freeze-backbone.js';
export { createXceptionClassifier, type XceptionClassifierOptions } from './transfer/create-xception-classifier.js';
export { decodePredictions, type ImagenetPrediction } from './imagenet/decode-predictions.js';
export { IMAGENET_LABELS } from './imagenet/imagenet-labels.js';
export { preprocessInput, type PreprocessInputOptions } from './imagenet/preprocess-input.js';
export {
  type ImageBatch,
  type ImageBatchIterator,
  type ImageBatchOptions,
  type ImageDataset,
} from './data/image-dataset.js';
export { loadIdxDataset, type IdxDataset, type IdxDatasetOptions, type IdxFiles } from './data/idx-dataset.js';
export {
  imageDatasetFromDirectory,
  type ImageFolderDataset,
  type ImageFolderOptions,
  type SkippedImage,
} from './data/image-dataset-from-directory.js';
export { plotHistory, type PlotHistoryOptions } from './training/plot-history.js';
