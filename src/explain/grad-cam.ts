import {
  add,
  all,
  argMax,
  div,
  expandDims,
  isFinite,
  matMul,
  max,
  mean,
  mul,
  relu,
  slice,
  sum,
  tidy,
  valueAndGrad,
  type Scalar,
  type Tensor,
  type Tensor2D,
  type Tensor3D,
  type Tensor4D,
} from '@tensorflow/tfjs-core';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { requireLayersModel, requireTensor } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { show } from '../model/validation.js';

/**
 * The {@link gradCam} function options.
 *
 * @example
 * ```ts
 * const options: GradCamOptions = { layerName: 'block14_sepconv2_act', classIndex: 281 };
 * const { heatmap } = gradCam(model, input, options);
 * ```
 * @category Explain
 */
export interface GradCamOptions {
  /**
   * The layer whose feature map the heatmap explains. @defaultValue the last
   * layer with a 4D output: `'block14_sepconv2_act'` for `'keras'` and
   * `'postact'` (keras.io's choice), the last ReLU of the aligned presets
   */
  layerName?: string;
  /** The class to explain. @defaultValue the class with the highest score */
  classIndex?: number;
}

/**
 * {@link gradCam}'s result.
 *
 * @example
 * ```ts
 * const { heatmap, classIndex, score } = gradCam(model, input);
 * console.log(classIndex, score, heatmap.shape); // e.g. 281 9.3 [10, 10]
 * heatmap.dispose();
 * ```
 * @category Explain
 */
export interface GradCamResult {
  /** `[height, width]` of the feature map, values in [0, 1]; the caller disposes it. */
  heatmap: Tensor2D;
  /** The class explained. */
  classIndex: number;
  /** The class's score before the softmax (its logit). */
  score: number;
}

/**
 * Grad-CAM (Selvaraju et al. 2017) the way keras.io's example computes it:
 * the gradient of the class's logit (the score before the softmax) with
 * respect to a feature map, averaged over height and width into one weight
 * per channel; the weighted sum of the channels, ReLU, divided by its
 * maximum. Bright cells of the heatmap are where the evidence for the class
 * sits.
 *
 * Works on any single-input, single-output `tf.LayersModel` whose output is
 * `[batch, classes]`: every preset of {@link createXception},
 * {@link createXceptionClassifier}'s models, and the model an ONNX file was
 * exported from. A final softmax (a `Dense` or `Activation` layer) is left
 * out. Runs in inference mode (BatchNormalization uses its moving
 * statistics), in Node and in browsers; no tensor is left behind but the
 * heatmap. On the wasm backend the gradient kernels of separable convolutions
 * are missing unless {@link enableWasmTraining} ran.
 *
 * @param model - The classifier.
 * @param image - One preprocessed image, `[h, w, c]` or `[1, h, w, c]` (see {@link preprocessInput}).
 * @param options - See {@link GradCamOptions}.
 * @returns The heatmap, the class explained and its logit.
 * @throws {@link XceptionConfigError} for an unknown layer, a layer without a
 *   4D output, an image that does not fit the model, a bad class index.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createXception, gradCam, overlayHeatmap, preprocessInput } from 'xception-ts';
 *
 * const model = await createXception({ weights: 'imagenet' });
 * const pixels = tf.browser.fromPixels(imageElement);                     // [h, w, 3]
 * const input = preprocessInput(tf.image.resizeBilinear(pixels, [299, 299]));
 * const { heatmap, classIndex } = gradCam(model, input);                  // heatmap [10, 10]
 * const overlay = overlayHeatmap(context.getImageData(0, 0, w, h), heatmap);
 * context.putImageData(new ImageData(overlay.data, overlay.width, overlay.height), 0, 0);
 * ```
 * @category Explain
 */
export function gradCam(model: LayersModel, image: Tensor3D | Tensor4D, options: GradCamOptions = {}): GradCamResult {
  const { featureMap, output, classes } = describe(model, options);
  const batch = requireFiniteFloat(requireTensor('gradCam: image', checkImage(model, image))) as Tensor3D | Tensor4D;
  let classIndex = options.classIndex;
  if (classIndex !== undefined && !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < classes)) {
    throw new XceptionConfigError(`gradCam: classIndex must be an integer in [0, ${classes - 1}]; got ${show(classIndex)}.`);
  }
  const result = tidy(() => {
    const x = batch.rank === 4 ? batch : expandDims(batch, 0);
    const features = evaluate(featureMap, new Map([[model.inputs[0]!.id, x as Tensor]]));
    const logitsOf = (map: Tensor): Tensor2D =>
      logits(output, new Map([[model.inputs[0]!.id, x as Tensor], [featureMap.id, map]]));
    const chosen = classIndex ?? (argMax(logitsOf(features), 1).dataSync()[0] as number);
    const scoreOf = (map: Tensor): Scalar => sum(slice(logitsOf(map), [0, chosen], [1, 1]));
    const { value, grad } = valueAndGrad(scoreOf)(features);
    const weights = mean(grad, [1, 2], true);                              // [1, 1, 1, c]
    const cam = relu(sum(mul(features, weights), [0, 3]));                // [h, w]
    const peak = max(cam);
    const heatmap = (peak.dataSync()[0]! > 0 ? div(cam, peak) : cam) as Tensor2D;
    return { heatmap, classIndex: chosen, score: value.dataSync()[0]! };
  });
  if (!Number.isFinite(result.score) || !isFiniteTensor(result.heatmap)) {
    result.heatmap.dispose();
    throw new XceptionConfigError(
      `gradCam: the class score (${result.score}) or the heatmap of '${model.name}' is not finite for this (finite) image: ` +
        'the model\'s weights or activations overflow; check them (e.g. with allowNonFinite left false when loading).',
    );
  }
  return result;
}

/** Requires a float32 image without NaN or ±Infinity (Grad-CAM of such an image is NaN throughout). */
function requireFiniteFloat(image: Tensor): Tensor {
  if (image.dtype !== 'float32') {
    throw new XceptionConfigError(
      `gradCam: image must be a float32 tensor (preprocessed pixels, e.g. from preprocessInput); got ${image.dtype}.`,
    );
  }
  if (!isFiniteTensor(image)) {
    throw new XceptionConfigError('gradCam: image holds NaN or ±Infinity; Grad-CAM needs finite, preprocessed pixels.');
  }
  return image;
}

/** Whether every value of a float tensor is finite (one reduction, read back as a single number). */
function isFiniteTensor(tensor: Tensor): boolean {
  return tidy(() => all(isFinite(tensor)).dataSync()[0] === 1);
}

/** The feature map's symbolic tensor and the model's output, checked. */
function describe(model: LayersModel, options: GradCamOptions): { featureMap: SymbolicTensor; output: SymbolicTensor; classes: number } {
  if (model === null || typeof model !== 'object' || !Array.isArray(model.inputs) || !Array.isArray(model.layers)) {
    throw new XceptionConfigError(`gradCam needs a tf.LayersModel; got ${show(model)}.`);
  }
  if (options === null || typeof options !== 'object') {
    throw new XceptionConfigError(`gradCam options must be an object or undefined; got ${show(options)}.`);
  }
  requireLayersModel('gradCam: model', model);
  requireKnownOptions('gradCam', options, ['layerName', 'classIndex']);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new XceptionConfigError(
      `gradCam needs a model with one input and one output; '${model.name}' has ${model.inputs.length} and ${model.outputs.length}.`,
    );
  }
  const output = model.outputs[0]!;
  if (output.shape.length !== 2 || typeof output.shape[1] !== 'number') {
    throw new XceptionConfigError(
      `gradCam explains a classifier, an output [batch, classes]; '${model.name}' outputs [${output.shape.map((d) => d ?? 'N').join(', ')}].`,
    );
  }
  let layer;
  if (options.layerName === undefined) {
    layer = [...model.layers].reverse().find((l) => rankOf(l) === 4);
    if (layer === undefined) throw new XceptionConfigError(`gradCam: '${model.name}' has no layer with a 4D output to explain.`);
  } else {
    layer = model.layers.find((l) => l.name === options.layerName);
    if (layer === undefined) {
      const candidates = model.layers.filter((l) => rankOf(l) === 4).slice(-3).map((l) => `'${l.name}'`);
      throw new XceptionConfigError(
        `gradCam: layerName ${show(options.layerName)} is not a layer of '${model.name}'; the last feature maps are ${candidates.join(', ')}.`,
      );
    }
    if (rankOf(layer) !== 4) {
      throw new XceptionConfigError(
        `gradCam: layer '${layer.name}' outputs [${(layer.outputShape as (number | null)[]).map((d) => d ?? 'N').join(', ')}]; it needs a 4D feature map [batch, h, w, channels].`,
      );
    }
  }
  if (layer.inboundNodes.length !== 1) {
    throw new XceptionConfigError(`gradCam: layer '${layer.name}' is called ${layer.inboundNodes.length} times in the model; pick a layer called once.`);
  }
  return { featureMap: layer.output as SymbolicTensor, output, classes: output.shape[1] };
}

function rankOf(layer: LayersModel['layers'][number]): number {
  const shape = layer.outputShape;
  return Array.isArray(shape) && !Array.isArray(shape[0]) ? shape.length : -1;
}

function checkImage(model: LayersModel, image: Tensor3D | Tensor4D): Tensor3D | Tensor4D {
  const expected = model.inputs[0]!.shape.slice(1);
  const shape = image !== null && typeof image === 'object' && Array.isArray((image as Tensor).shape) ? (image as Tensor).shape : undefined;
  const dims = shape?.length === 4 && shape[0] === 1 ? shape.slice(1) : shape;
  const fits = dims?.length === 3 && dims.every((d, i) => expected[i] === null || expected[i] === d);
  if (!fits) {
    throw new XceptionConfigError(
      `gradCam takes one preprocessed image [${expected.map((d) => d ?? 'h').join(', ')}] or [1, ${expected.map((d) => d ?? 'h').join(', ')}] for '${model.name}'; ` +
        `got ${shape ? `a tensor of shape [${shape.join(', ')}]` : show(image)}.`,
    );
  }
  return image;
}

/**
 * The model's logits: its output, or, when the output layer applies a
 * softmax, that layer's input through its linear part.
 */
function logits(output: SymbolicTensor, feeds: Map<number, Tensor>): Tensor2D {
  const layer = output.sourceLayer as unknown as { getClassName(): string; getConfig(): Record<string, unknown>; getWeights(): Tensor[] };
  const className = layer.getClassName();
  const activation = layer.getConfig()['activation'];
  if (activation === 'softmax' && className === 'Activation') {
    return evaluate(output.inputs[0]!, feeds) as Tensor2D;
  }
  if (activation === 'softmax' && className === 'Dense') {
    const [kernel, bias] = layer.getWeights();
    const features = evaluate(output.inputs[0]!, feeds) as Tensor2D;
    const linear = matMul(features, kernel as Tensor2D);
    return (bias === undefined ? linear : add(linear, bias)) as Tensor2D;
  }
  return evaluate(output, feeds) as Tensor2D;
}

/**
 * Computes a symbolic tensor from the fed ones by calling the layers that
 * produce it in inference mode (`training: false`), the way
 * `tf.LayersModel.predict` does, but starting from any fed tensor, so that
 * tf.grad can differentiate with respect to an inner feature map.
 */
function evaluate(target: SymbolicTensor, feeds: Map<number, Tensor>): Tensor {
  const values = new Map(feeds);
  const visit = (symbolic: SymbolicTensor): Tensor => {
    const known = values.get(symbolic.id);
    if (known !== undefined) return known;
    if (symbolic.inputs.length === 0) {
      throw new XceptionConfigError(`gradCam: the model's tensor '${symbolic.name}' has no value; is it an input of another model?`);
    }
    const inputs = symbolic.inputs.map(visit);
    const node = symbolic.sourceLayer.inboundNodes[symbolic.nodeIndex]!;
    const produced = symbolic.sourceLayer.apply(inputs, { training: false }) as Tensor | Tensor[];
    const list = Array.isArray(produced) ? produced : [produced];
    node.outputTensors.forEach((out, i) => values.set(out.id, list[i]!));
    return values.get(symbolic.id)!;
  };
  return visit(target);
}
