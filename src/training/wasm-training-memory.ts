import type { LayersModel } from '@tensorflow/tfjs-layers';
import { XceptionConfigError } from '../errors.js';

/**
 * The wasm backend's heap can grow to 4 GiB (65,536 pages of 64 KiB), no further.
 *
 * @example
 * ```ts
 * console.log(WASM_HEAP_LIMIT_BYTES / 2 ** 30); // 4
 * ```
 * @category Training
 */
export const WASM_HEAP_LIMIT_BYTES = 2 ** 32;

// Measured with bench/parts/training-step.mjs (keras preset, Adam, tfjs-backend-wasm 4.22),
// heap after two steps: 2.29 GB at 150×150 batch 4, 3.13 GB at batch 6, 3.91 GB at batch 8;
// 1.57 GB at 224×224 batch 1, 3.48 GB at batch 3; 2.40 GB at 299×299 batch 1, 4.08 GB at
// batch 2. So ~410 MB (150×150), ~960 MB (224×224) or ~1.7 GB (299×299) per image, 6.7–7.0×
// the model's activations (every layer's output: 58.9 MB an image at
// 150×150), plus ~650 MB, 7.8× the weights' bytes. Small batches stop at a floor instead:
// 1.37–1.48 GB at 71×71 and 150×150 batch 2, when Adam updates every weight in one tidy
// (17.6× the weights' bytes). The factors below round those up (the per-image one to 7.0,
// which keeps 299×299 batch 2, measured to fit, under the limit).
const BYTES_PER_ACTIVATION = 4 * 7.0;
const BYTES_PER_PARAMETER = 4 * 8;
const OPTIMIZER_BYTES_PER_PARAMETER = 4 * 18;

/**
 * What a training step of a model needs on the wasm backend: an estimate of
 * the heap it grows to, from {@link estimateWasmTrainingMemory}.
 *
 * @example
 * ```ts
 * const { largestBatch } = estimateWasmTrainingMemory(model);
 * ```
 * @category Training
 */
export interface WasmTrainingMemory {
  /** Heap bytes independent of the batch: weights, gradients, optimizer state. */
  baseBytes: number;
  /** The heap every step reaches, whatever the batch: the optimizer updating all weights at once. */
  floorBytes: number;
  /** Heap bytes each image of a batch adds: its activations, kept for the backward pass, and temporaries. */
  bytesPerImage: number;
  /** The wasm heap's limit, 4 GiB. */
  limitBytes: number;
  /** The largest batch whose estimate stays under the limit (0 when not even one image fits). */
  largestBatch: number;
}

/**
 * Estimates the wasm heap a training step (`model.fit`, Adam) grows to, per
 * batch size — `max(floorBytes, baseBytes + bytesPerImage · batch)` — from
 * the model's parameter count and the sizes of its layers' outputs, with
 * factors measured on Xception (see the "Choosing a backend" guide). The heap cannot grow past 4 GiB; past it, tfjs fails with an
 * unclear error in the middle of a step. Use {@link assertWasmTrainingFits}
 * before training to get a clear one instead.
 *
 * @param model - A model with a fixed input size.
 * @throws {@link XceptionConfigError} when the input size is not fixed.
 *
 * @example
 * ```ts
 * const model = createXception({ numClasses: 10, inputShape: [150, 150, 3] });
 * console.log(estimateWasmTrainingMemory(model).largestBatch); // 8
 * ```
 * @category Training
 */
export function estimateWasmTrainingMemory(model: LayersModel): WasmTrainingMemory {
  let activations = 0;
  for (const layer of model.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
    for (const shape of shapes) {
      if (shape.slice(1).some((d) => d === null)) {
        throw new XceptionConfigError(
          `estimating training memory needs a model with a fixed input size; layer '${layer.name}' has output shape [${shape.map((d) => d ?? 'null').join(', ')}].`,
        );
      }
      activations += (shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    }
  }
  const baseBytes = Math.round(model.countParams() * BYTES_PER_PARAMETER);
  const bytesPerImage = Math.round(activations * BYTES_PER_ACTIVATION);
  const largestBatch = Math.max(0, Math.floor((WASM_HEAP_LIMIT_BYTES - baseBytes) / bytesPerImage));
  const floorBytes = Math.round(model.countParams() * OPTIMIZER_BYTES_PER_PARAMETER);
  return { baseBytes, floorBytes, bytesPerImage, limitBytes: WASM_HEAP_LIMIT_BYTES, largestBatch: floorBytes > WASM_HEAP_LIMIT_BYTES ? 0 : largestBatch };
}

/**
 * Throws a clear error when a training step at `batchSize` would not fit in
 * the wasm backend's 4 GiB heap (by {@link estimateWasmTrainingMemory}'s
 * estimate), saying what it needs and the largest batch that fits. Call it
 * before `model.fit` on the 'wasm' backend.
 *
 * @throws {@link XceptionConfigError} when the step does not fit, or for a batch size that is not a positive integer.
 *
 * @example
 * ```ts
 * enableWasmTraining();
 * assertWasmTrainingFits(model, 16);
 * // XceptionConfigError: a training step of 'xception' at batch 16 (150×150) needs about 7.3 GB of wasm heap …
 * ```
 * @category Training
 */
export function assertWasmTrainingFits(model: LayersModel, batchSize: number): void {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new XceptionConfigError(`batchSize must be a positive integer; got ${batchSize}.`);
  }
  const { baseBytes, floorBytes, bytesPerImage, limitBytes, largestBatch } = estimateWasmTrainingMemory(model);
  const needed = Math.max(floorBytes, baseBytes + bytesPerImage * batchSize);
  if (needed <= limitBytes) return;
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;
  const [, height, width] = model.inputs[0]!.shape;
  throw new XceptionConfigError(
    `a training step of '${model.name}' at batch ${batchSize} (${height}×${width}) needs about ${gb(needed)} of wasm heap ` +
      `(${gb(baseBytes)} + ${gb(bytesPerImage)} per image); the wasm backend's heap stops at ${gb(limitBytes)}. ` +
      (largestBatch > 0
        ? `Use a batch of at most ${largestBatch}, a smaller input, or the tensorflow (tfjs-node) backend.`
        : 'Not even one image fits: use a smaller input, or the tensorflow (tfjs-node) backend.'),
  );
}
