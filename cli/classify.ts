import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  createXception,
  getPreset,
  gradCam,
  IMAGENET_LABELS,
  overlayHeatmap,
  PRETRAINED_CONFIGS,
  preprocessInput,
  XceptionError,
  XceptionImageError,
  type XceptionOptions,
} from '../src/index.js';
import { createOnnxClassifier, exportOnnx } from '../src/onnx/index.js';
import { describeSystemError, isSystemError, UsageError } from './cli-errors.js';
import { encodePng, readImageRgba, type DecodedImage } from './image-codec.js';
import { progressLines } from './download-progress.js';
import { requireWritable, sameFile } from './output-guard.js';
import { inputFlag, integerFlag, oneOfFlag, presetFlag, type CliFlags } from './flags.js';
import type { CliIo } from './run-cli.js';
import { loadTrainedModel } from './trained-model.js';

/** One class of one image. */
interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

/**
 * `xception-ts classify <image…>`: the top classes of each PNG/JPEG, and with
 * `--cam` the Grad-CAM overlay of the top class.
 */
export async function classify(paths: string[], values: CliFlags, io: CliIo): Promise<void> {
  const trained = values.model === undefined ? undefined : await loadTrainedModel(values.model as string, values);
  const preset = values.preset === undefined ? 'keras' : presetFlag(values.preset as string);
  const numClasses = trained ? trained.labels.length : values.classes === undefined ? 1000 : integerFlag('classes', values.classes as string, 1);
  const top = values.top === undefined ? Math.min(5, numClasses) : integerFlag('top', values.top as string, 1, numClasses);
  const engine = values.engine === undefined ? 'tfjs' : oneOfFlag('engine', values.engine as string, ['tfjs', 'onnx'] as const);
  const weights = (values.weights as string | undefined) ?? 'imagenet';
  const camPath = values.cam as string | undefined;
  if (camPath !== undefined) {
    if (paths.length !== 1) throw new UsageError(`--cam writes one overlay: give one image, not ${paths.length}.`, 'classify');
    if (!/\.png$/i.test(camPath)) throw new UsageError(`--cam writes a PNG: the path must end in .png; got ${JSON.stringify(camPath)}.`, 'classify');
    const input = [...paths, ...(weights === 'imagenet' || weights === 'random' ? [] : [weights])].find((p) => sameFile(p, camPath));
    if (input !== undefined) {
      throw new UsageError(`refusing to write the output file ${JSON.stringify(camPath)} over the input ${JSON.stringify(input)}; pick another path.`, 'classify');
    }
  }
  if (weights === 'imagenet' && !trained) {
    // Each preset's ImageNet weights fit one architecture; say so in flag terms before downloading ~100 MB.
    const config = PRETRAINED_CONFIGS[preset];
    if (!config) {
      const withWeights = Object.keys(PRETRAINED_CONFIGS).join(', ');
      throw new UsageError(`--weights imagenet: --preset ${preset} has no ImageNet weights; presets with them: ${withWeights}.`, 'classify');
    }
    if (numClasses !== 1000) throw new UsageError(`--weights imagenet has 1000 classes; drop --classes ${values.classes}.`, 'classify');
    const size = config.inputSize.join(',');
    if (values.input !== undefined && values.input !== size) {
      throw new UsageError(`--weights imagenet needs --input ${size} (the top of ${config.tag} is ${config.inputSize[0]}×${config.inputSize[1]}); got ${JSON.stringify(values.input)}.`, 'classify');
    }
  }
  if (camPath !== undefined) requireWritable(camPath, 'file');
  const options: XceptionOptions = { preset, numClasses };
  if (values.input !== undefined) options.inputShape = inputFlag(values.input as string);
  if (values['allow-small-input']) options.allowSmallInput = true;

  const images = await Promise.all(paths.map(readImage)).catch((error: unknown) => {
    trained?.model.dispose();
    throw error;
  });
  const model = trained?.model ?? (await buildModel(options, weights, io));
  try {
    const [height, width, channels] = model.inputs[0]!.shape.slice(1) as [number, number, number];
    const labels = trained?.labels ?? (numClasses === IMAGENET_LABELS.length ? IMAGENET_LABELS : Array.from({ length: numClasses }, (_, i) => `class ${i}`));
    const predictions =
      engine === 'onnx'
        ? await classifyWithOnnx(model, images, labels, top)
        : images.map((image) => {
            const probabilities = tf.tidy(() => (model.predict(tf.expandDims(prepare(image, height, width, channels), 0)) as tf.Tensor).dataSync());
            return topClasses(probabilities, labels, top);
          });
    let cam: { layer: string; classIndex: number } | undefined;
    if (camPath !== undefined) {
      const input = prepare(images[0]!, height, width);
      const layer = [...model.layers].reverse().find((l) => (l.outputShape as unknown[]).length === 4)!.name;
      const { heatmap, classIndex } = gradCam(model, input, { classIndex: predictions[0]![0]!.classIndex });
      input.dispose();
      const overlay = overlayHeatmap(images[0]!, heatmap);
      heatmap.dispose();
      await writeOutput(camPath, encodePng(overlay));
      cam = { layer, classIndex };
    }
    if (values.json) {
      io.out(JSON.stringify(paths.map((image, i) => ({ image, predictions: predictions[i], ...(i === 0 && cam ? { cam: camPath } : {}) })), null, 2));
    } else {
      paths.forEach((path, i) => {
        io.out(`${path}:`);
        predictions[i]!.forEach((p, rank) => io.out(`  ${rank + 1}. ${p.probability.toFixed(4)}  ${p.label} (${p.classIndex})`));
      });
      if (cam) io.out(`Wrote the Grad-CAM of ${JSON.stringify(labels[cam.classIndex])} (layer ${cam.layer}) over ${paths[0]} to ${camPath}.`);
    }
  } finally {
    model.dispose();
  }
}

async function readImage(path: string): Promise<DecodedImage> {
  try {
    return await readImageRgba(path);
  } catch (error) {
    // A file-system failure reads as the CLI's other "cannot read" lines; the rest (a device, a file or a
    // declared size over the caps, a truncated or corrupt image) is the library's own message.
    if (error instanceof XceptionImageError && isSystemError(error.cause)) throw new XceptionError(`cannot read ${describeSystemError(error.cause, path)}`);
    throw error;
  }
}

async function buildModel(options: XceptionOptions, weights: string, io: CliIo): Promise<LayersModel> {
  if (weights === 'imagenet') {
    const config = PRETRAINED_CONFIGS[getPreset(options.preset).name]!;
    const where = config.format === 'keras-h5' ? "Keras' ImageNet file (about 91 MB" : `timm's ${config.tag} checkpoint (${config.top1} % top-1, 100–170 MB`;
    io.err(
      `Loading ${where}; the first run downloads it into ${process.env['XCEPTION_TS_CACHE_DIR'] || '~/.cache/xception-ts'}) …`,
    );
    const started = performance.now();
    const model = await createXception({ ...options, weights: 'imagenet', download: { onProgress: progressLines((line) => io.err(line)) } });
    io.err(`Weights ready in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    return model;
  }
  if (weights === 'random') {
    io.err(`Using random (untrained) weights: the classes mean nothing.`);
    return createXception(options);
  }
  return createXception({ ...options, weights });
}

/** RGBA pixels → the model's preprocessed input `[h, w, 3]` (or `[h, w, 1]`: luminance, for a gray model). */
function prepare(image: DecodedImage, height: number, width: number, channels = 3): tf.Tensor3D {
  return tf.tidy(() => {
    const rgba = tf.tensor3d(image.data, [image.height, image.width, 4], 'int32');
    const rgb = tf.slice(rgba, [0, 0, 0], [image.height, image.width, 3]);
    const pixels = channels === 1 ? tf.sum(tf.mul(tf.cast(rgb, 'float32'), [0.299, 0.587, 0.114]), -1, true) : rgb;
    return preprocessInput(tf.image.resizeBilinear(pixels as tf.Tensor3D, [height, width]));
  });
}

function topClasses(probabilities: ArrayLike<number>, labels: readonly string[], top: number): Prediction[] {
  return Array.from(probabilities, (probability, classIndex) => ({ classIndex, label: labels[classIndex]!, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, top);
}

async function classifyWithOnnx(model: LayersModel, images: DecodedImage[], labels: readonly string[], top: number): Promise<Prediction[][]> {
  let classifier;
  try {
    classifier = await createOnnxClassifier({ model: exportOnnx(model), labels });
  } catch (error) {
    throw new XceptionError(`--engine onnx: ${(error as Error).message}`);
  }
  try {
    const results: Prediction[][] = [];
    for (const image of images) results.push(await classifier.classify(image, { topK: top }));
    return results;
  } finally {
    await classifier.dispose();
  }
}

async function writeOutput(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (error) {
    if (isSystemError(error)) throw new XceptionError(`cannot write ${describeSystemError(error, path)}`);
    throw error;
  }
}
