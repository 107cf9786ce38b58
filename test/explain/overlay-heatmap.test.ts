import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { overlayHeatmap, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

describe('overlayHeatmap', () => {
  it('blends jet colours over the image: dark red where the heatmap is 1, dark blue where 0', () => {
    const image = { data: new Uint8Array(4 * 4 * 4).fill(100), width: 4, height: 4 };
    const heatmap = tf.tensor2d([[1, 0], [0, 0]]);
    const overlay = overlayHeatmap(image, heatmap, { alpha: 0.5 });
    expect(overlay.width).toBe(4);
    expect(overlay.height).toBe(4);
    expect(overlay.data).toBeInstanceOf(Uint8ClampedArray);
    expect(overlay.data.length).toBe(64);
    const pixel = (y: number, x: number) => Array.from(overlay.data.slice((y * 4 + x) * 4, (y * 4 + x) * 4 + 4));
    // jet(1) = (0.5, 0, 0), jet(0) = (0, 0, 0.5): 0.5 · 100 + 0.5 · 127.5 = 113.75.
    expect(pixel(0, 0)).toEqual([114, 50, 50, 255]);
    expect(pixel(3, 3)).toEqual([50, 50, 114, 255]);
    // Half-pixel centres: output pixel 1 samples the heatmap at 0.25 → 0.75 · 1 along each axis.
    const v = 0.75 * 0.75;
    const jet = (centre: number) => 255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - centre)));
    expect(pixel(1, 1)).toEqual([Math.round(50 + 0.5 * jet(3)), Math.round(50 + 0.5 * jet(2)), Math.round(50 + 0.5 * jet(1)), 255]);
    heatmap.dispose();
  });

  it('takes RGB pixels and a plain heatmap, and paints gray', () => {
    const image = { data: new Uint8Array([0, 0, 0, 200, 200, 200]), width: 2, height: 1 };
    const overlay = overlayHeatmap(image, { data: [0, 1], width: 2, height: 1 }, { alpha: 1, colormap: 'gray' });
    expect(Array.from(overlay.data)).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
    const untouched = overlayHeatmap(image, { data: [0, 1], width: 2, height: 1 }, { alpha: 0 });
    expect(Array.from(untouched.data)).toEqual([0, 0, 0, 255, 200, 200, 200, 255]);
  });

  it('refuses bad images, heatmaps and options with typed errors', () => {
    const image = { data: new Uint8Array(12), width: 2, height: 2 };
    const map = { data: [1], width: 1, height: 1 };
    const message = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        expect(error).toBeInstanceOf(XceptionConfigError);
        return (error as Error).message;
      }
      throw new Error('did not throw');
    };
    expect(message(() => overlayHeatmap(image, map, { alpha: 2 }))).toBe('overlayHeatmap: alpha must be a number in [0, 1]; got 2.');
    expect(message(() => overlayHeatmap(image, map, { colormap: 'hot' as 'jet' }))).toBe(
      `overlayHeatmap: colormap must be one of 'jet', 'gray'; got "hot".`,
    );
    expect(message(() => overlayHeatmap({ data: new Uint8Array(10), width: 2, height: 2 }, map))).toBe(
      'overlayHeatmap: image data must hold width · height · 3 (RGB) or · 4 (RGBA) values; 2 × 2 needs 12 or 16, got 10.',
    );
    const cube = tf.zeros([2, 2, 2]);
    expect(message(() => overlayHeatmap(image, cube as unknown as tf.Tensor2D))).toBe(
      'overlayHeatmap: heatmap must be a 2D tensor [h, w] with h and w at least 1; got shape [2, 2, 2].',
    );
    cube.dispose();
  });
});
