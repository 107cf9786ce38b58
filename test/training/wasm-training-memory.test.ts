import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  assertWasmTrainingFits,
  createXception,
  enableWasmTraining,
  estimateWasmTrainingMemory,
  WASM_HEAP_LIMIT_BYTES,
  XceptionConfigError,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

describe('estimateWasmTrainingMemory', () => {
  beforeAll(() => useBackend('cpu'));

  it('gives the largest batches measured to fit (bench/parts/training-step.mjs): 8 at 150×150, 3 at 224×224, 2 at 299×299', () => {
    // Measured heaps: 3.91 GB at 150×150 batch 8, 3.48 GB at 224×224 batch 3, 4.08 GB at 299×299 batch 2,
    // under the 4.29 GB limit; one more image adds ~410 MB / ~960 MB / ~1.7 GB, which would pass it.
    const at = (size: number) => {
      const model = createXception({ numClasses: 10, inputShape: [size, size, 3] });
      const memory = estimateWasmTrainingMemory(model);
      model.dispose();
      return memory;
    };
    expect(at(150).largestBatch).toBe(8);
    expect(at(224).largestBatch).toBe(3);
    expect(at(299).largestBatch).toBe(2);
    const m150 = at(150);
    expect(m150.limitBytes).toBe(WASM_HEAP_LIMIT_BYTES);
    expect(WASM_HEAP_LIMIT_BYTES).toBe(4 * 1024 ** 3);
    // Within 15% of the measured heaps.
    expect(m150.baseBytes + 8 * m150.bytesPerImage).toBeGreaterThan(3.91e9);
    expect(m150.baseBytes + 8 * m150.bytesPerImage).toBeLessThan(3.91e9 * 1.15);
    expect(m150.floorBytes).toBeGreaterThan(1.48e9);
  });

  it('assertWasmTrainingFits passes what fits and explains what does not', () => {
    const model = createXception({ numClasses: 10, inputShape: [150, 150, 3] });
    expect(() => assertWasmTrainingFits(model, 8)).not.toThrow();
    expect(() => assertWasmTrainingFits(model, 16)).toThrow(XceptionConfigError);
    expect(() => assertWasmTrainingFits(model, 16)).toThrow(
      /^a training step of 'xception' at batch 16 \(150×150\) needs about 7\.3 GB of wasm heap \(0\.7 GB \+ 0\.4 GB per image\); the wasm backend's heap stops at 4\.3 GB\. Use a batch of at most 8, a smaller input, or the tensorflow \(tfjs-node\) backend\.$/,
    );
    expect(() => assertWasmTrainingFits(model, 0)).toThrow('batchSize must be a positive integer; got 0.');
    model.dispose();
    const huge = createXception({ numClasses: 10, inputShape: [1200, 1200, 3] });
    expect(estimateWasmTrainingMemory(huge).largestBatch).toBe(0);
    expect(() => assertWasmTrainingFits(huge, 1)).toThrow('Not even one image fits');
    huge.dispose();
    const anySize = createXception({ includeTop: false, inputShape: [null, null, 3] });
    expect(() => estimateWasmTrainingMemory(anySize)).toThrow('estimating training memory needs a model with a fixed input size');
    anySize.dispose();
  });
});

describe('the estimate against a real step', () => {
  it('a fresh wasm heap after two 71×71 batch-4 steps stays under the estimate, and within 2× of it', async () => {
    enableWasmTraining();
    await useBackend('wasm');
    const model = createXception({ numClasses: 4, inputShape: [71, 71, 3] });
    model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([4, 71, 71, 3]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const { baseBytes, floorBytes, bytesPerImage } = estimateWasmTrainingMemory(model);
    const estimate = Math.max(floorBytes, baseBytes + 4 * bytesPerImage);
    expect(heap).toBeLessThanOrEqual(estimate);
    expect(heap).toBeGreaterThan(estimate / 2);
    tf.dispose([x, y]);
    model.dispose();
  });
});
