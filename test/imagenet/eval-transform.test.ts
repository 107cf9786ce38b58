import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeEvalTransformedRgb } from '../../src/imagenet/eval-transform.js';

// Pillow 9.4's bicubic resize + torchvision's center crop (timm's eval transform) on
// deterministic images, written by test/fixtures/pil-eval-transform.py.
const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/pil-eval-transform.json'), 'utf8')) as {
  cases: { width: number; height: number; size: number; cropPct: number; output: number[] }[];
};
const pixel = (x: number, y: number, c: number) => ((x * 37 + y * 11 + c * 71 + ((x * y) % 29)) * 7) % 256;

describe("timm's eval transform (resize the shorter side to size / cropPct, bicubic, center crop)", () => {
  it.each(fixture.cases.map((c) => [`${c.width}×${c.height} → ${c.size} (crop ${c.cropPct})`, c] as const))(
    "%s: Pillow's 8-bit result, within one level (fixed-point rounding) and exact for 99 % of values",
    (_label, c) => {
      const data = new Uint8Array(c.width * c.height * 3);
      for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) for (let k = 0; k < 3; k++) data[(y * c.width + x) * 3 + k] = pixel(x, y, k);
      const out = new Float32Array(c.size * c.size * 3);
      writeEvalTransformedRgb({ data, width: c.width, height: c.height }, { size: [c.size, c.size], cropPct: c.cropPct }, out, 0, 1, 0);
      let worst = 0;
      let exact = 0;
      for (let i = 0; i < out.length; i++) {
        const d = Math.abs(out[i]! - c.output[i]!);
        worst = Math.max(worst, d);
        if (d === 0) exact++;
      }
      expect(worst).toBeLessThanOrEqual(1);
      expect(exact / out.length).toBeGreaterThanOrEqual(0.99);
    },
  );

  it('writes scale · v + shift (e.g. x / 127.5 - 1) and drops alpha', () => {
    const rgba = new Uint8Array(4 * 4 * 4).fill(255);
    const out = new Float32Array(2 * 2 * 3);
    writeEvalTransformedRgb({ data: rgba, width: 4, height: 4 }, { size: [2, 2], cropPct: 1 }, out, 0, 1 / 127.5, -1);
    for (const v of out) expect(v).toBeCloseTo(1, 6);
  });
});

describe("preprocessInput(images, { preset }): the preset's eval transform, then x / 127.5 - 1", () => {
  it('resizes and crops any image to 299×299 as timm evaluates xception65 (318, crop 0.94), without leaks', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { preprocessInput } = await import('../../src/index.js');
    const { useBackend } = await import('../helpers/backend.js');
    await useBackend('cpu');
    const w = 400;
    const h = 330;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) data[(y * w + x) * 3 + k] = pixel(x, y, k);
    const images = tf.tensor4d(data, [1, h, w, 3], 'int32');
    const before = tf.memory().numTensors;
    const input = preprocessInput(images, { preset: 'xception65' });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(input.shape).toEqual([1, 299, 299, 3]);
    const expected = new Float32Array(299 * 299 * 3);
    writeEvalTransformedRgb({ data, width: w, height: h }, { size: [299, 299], cropPct: 0.94 }, expected, 0, 1 / 127.5, -1);
    expect(input.dataSync()).toEqual(expected);
    expect(input.dataSync().every((v) => v >= -1 && v <= 1)).toBe(true);
    // Without a preset: only the scaling, shape kept.
    const scaled = preprocessInput(images);
    expect(scaled.shape).toEqual([1, h, w, 3]);
    expect(scaled.dataSync()[5]).toBeCloseTo(data[5]! / 127.5 - 1, 6);
    expect(() => preprocessInput(images, { preset: 'postact' })).toThrow(
      "preprocessInput: 'postact' has no ImageNet weights, so no eval transform; presets with one: 'keras', 'xception41', 'xception65', 'xception71', 'xception41p', 'xception65p'.",
    );
    expect(() => preprocessInput(images, { crop: 0.9 } as never)).toThrow("Unknown preprocessInput option 'crop'; valid options are 'preset'.");
    tf.dispose([images, input, scaled]);
  });
});
