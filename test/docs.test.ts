import { describe, expect, it } from 'vitest';
import ts from 'typescript';

// Every public export carries TSDoc with a summary and an @example, as the
// API reference (typedoc) shows them to users.
const program = ts.createProgram(['src/index.ts', 'src/onnx/index.ts'], { strict: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler });
const checker = program.getTypeChecker();
const exportsOf = (path: string) => checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(path)!)!);

describe.each([
  ['xception-ts', 'src/index.ts'],
  ['xception-ts/onnx', 'src/onnx/index.ts'],
])('API documentation of %s', (_entry, path) => {
  const exports = exportsOf(path);

  it.each(exports.map((s) => [s.name, s] as const))('%s has a summary and an @example', (_name, symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const summary = ts.displayPartsToString(target.getDocumentationComment(checker)).trim();
    const tags = target.getJsDocTags(checker).map((t) => t.name);
    expect(summary.length).toBeGreaterThan(10);
    expect(tags).toContain('example');
  });
});

describe('API surface', () => {
  it('xception-ts/onnx exports the documented API by name', () => {
    expect(exportsOf('src/onnx/index.ts').map((s) => s.name).sort()).toEqual([
      'ClassScore', 'ExportOnnxOptions', 'ONNX_OPSET', 'OnnxClassifier', 'OnnxClassifierOptions', 'OnnxRuntime',
      'OrtSession', 'PixelTensor', 'Pixels', 'createOnnxClassifier', 'exportOnnx',
      'createOnnxTrainer', 'OnnxTrainer', 'LearningRateSchedule', 'OnnxLossOptions', 'OnnxOptimizerOptions', 'OnnxTrainerOptions',
      'OnnxBatch', 'OnnxBatchIterator', 'OnnxBatchSource', 'OnnxEvaluateOptions', 'OnnxEvaluation', 'OnnxFitOptions', 'OnnxTrainingCallbacks', 'OnnxTrainingHistory', 'OnnxTrainingLogs',
      'ExecutionProvider', 'OnnxDevice', 'OnnxDeviceInfo',
    ].sort());
  });

  it('xception-ts exports the documented API by name', () => {
    const exports = exportsOf('src/index.ts');
    expect(exports.map((s) => s.name).sort()).toEqual([
      'XceptionWeightsError', 'loadKerasWeights', 'LoadKerasWeightsOptions', 'LoadKerasWeightsResult', 'WeightsSource',
      'decodePredictions', 'ImagenetPrediction', 'IMAGENET_LABELS', 'preprocessInput',
      'XceptionWeights', 'ChecksummedWeights', 'PretrainedXceptionOptions',
      'optimizeForInference', 'InferenceModel', 'enableWasmTraining', 'assertWasmTrainingFits', 'estimateWasmTrainingMemory',
      'WASM_HEAP_LIMIT_BYTES', 'WasmTrainingMemory',
      'loadKerasModel', 'LoadKerasModelOptions', 'saveKerasWeights', 'SaveKerasWeightsOptions', 'saveKerasModel',
      'inspectKerasFile', 'KerasFileLayer', 'KerasFileSummary', 'XceptionModelFileError', 'MiniXceptionPreset', 'MiniXceptionPresetName',
      'AlignedUnit', 'AlignedXceptionPreset', 'ClassicXceptionPreset', 'FeatureInfo', 'OutputStride',
      'XceptionBackbone', 'XceptionBackboneOptions', 'createXceptionBackbone', 'registerXceptionLayers',
      'BlockActivation', 'EntryFlowOptions', 'ExitFlowOptions', 'FlowOptions', 'LayerRow',
      'MiddleFlowOptions', 'Padding', 'ParameterCounts', 'SeparableBlockOptions', 'XCEPTION_PRESETS',
      'XceptionConfigError', 'XceptionError', 'XceptionTrainingError', 'XceptionOptions', 'XceptionPooling', 'XceptionPreset',
      'XceptionPresetName', 'countParameters', 'createXception', 'entryFlow', 'exitFlow', 'getPreset',
      'layerTable', 'listPresets', 'middleFlow', 'separableBlock',
      'XceptionDownloadError', 'DownloadOptions', 'DownloadProgress', 'XCEPTION_LIMITS', 'KERAS_FILE_LIMITS', 'InspectKerasFileOptions',
      'loadTimmWeights', 'LoadTimmWeightsOptions', 'LoadTimmWeightsResult', 'PRETRAINED_CONFIGS', 'PretrainedConfig', 'PreprocessInputOptions',
      'gradCam', 'GradCamOptions', 'GradCamResult', 'HeatmapColormap', 'overlayHeatmap', 'OverlayHeatmapOptions',
      'RgbaPixels', 'Pixels', 'freezeBackbone', 'unfreeze', 'FreezeBackboneOptions', 'UnfreezeOptions', 'FreezeSummary',
      'createXceptionClassifier', 'XceptionClassifierOptions',
      'XceptionDataError', 'imageDatasetFromDirectory', 'ImageFolderDataset', 'ImageFolderOptions', 'SkippedImage',
      'loadIdxDataset', 'IdxDataset', 'IdxDatasetOptions', 'IdxFiles',
      'ImageDataset', 'ImageBatch', 'ImageBatchIterator', 'ImageBatchOptions', 'plotHistory', 'PlotHistoryOptions',
      'loadImage', 'LoadImageOptions', 'ImageSource', 'IMAGE_LIMITS', 'XceptionImageError',
      'useWasmBackend', 'UseWasmBackendOptions', 'WasmBackendInfo',
      'XceptionDeviceError',
    ].sort());
  });
});
