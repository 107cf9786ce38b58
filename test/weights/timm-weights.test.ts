import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, loadTimmWeights, type XceptionPresetName } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { TIMM_REFERENCE_DIR, timmFloat32, timmMeta } from '../helpers/timm-reference.js';

// timm 0.9.16's own logits for seeded xception41 / xception41p checkpoints
// (../shared/reference/timm/, see its notes): our models, loaded through
// loadTimmWeights, must give them within 1e-4 of the largest |logit|, at 299
// (where TF 'same' and timm's symmetric padding differ) and 289, output stride 32 and 16.
const DIR = TIMM_REFERENCE_DIR ?? '';
const f32 = timmFloat32;
if (!TIMM_REFERENCE_DIR) console.warn('shared/reference/timm not found: the timm comparison is skipped (set XCEPTION_TS_TIMM_REFERENCE).');

beforeAll(() => useBackend('wasm'));

const cases = TIMM_REFERENCE_DIR
  ? Object.entries(timmMeta().models).flatMap(([preset, m]) =>
      Object.entries(m.logits).map(([file, c]) => ({ preset: preset as XceptionPresetName, weights: m.weights, file, ...c })),
    )
  : [];

describe.skipIf(!TIMM_REFERENCE_DIR)('loadTimmWeights against timm 0.9.16', () => {
  it.each(cases)('$preset, output stride $outputStride, $input: equals $file within 1e-4 of max |logit|', async (c) => {
    const size = Number(/input_(\d+)_/.exec(c.input)![1]);
    const model = createXception({ preset: c.preset, inputShape: [size, size, 3], outputStride: c.outputStride, classifierActivation: 'linear' });
    const result = await loadTimmWeights(model, join(DIR, c.weights));
    expect(result.skipped.every((k) => k.endsWith('.num_batches_tracked'))).toBe(true);
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(f32(c.input), [1, size, size, 3]);
    const y = model.predict(x) as tf.Tensor;
    const ours = y.dataSync() as Float32Array;
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
    const theirs = f32(c.file);
    let worst = 0;
    for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
    const absmax = Math.max(...Array.from(theirs, Math.abs));
    expect(absmax).toBeCloseTo(c.absmax, 4);
    console.log(`${c.preset} os${c.outputStride} ${size}: max |ours - timm| = ${worst.toExponential(3)} (${(worst / absmax).toExponential(3)} of max |logit| ${absmax.toFixed(3)})`);
    expect(worst).toBeLessThanOrEqual(1e-4 * absmax);
    model.dispose();
  }, 120_000); // 10–20 s each measured; up to 48 s on a shared 2-core machine
});
