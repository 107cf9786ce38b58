// Shared by the demo and the benchmarks: read a PNG into an image tensor; medians.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';

/** Decodes a PNG file into an int32 tensor [height, width, 3] (alpha dropped). */
export function readPng(path) {
  const png = PNG.sync.read(readFileSync(path));
  const rgb = new Int32Array(png.width * png.height * 3);
  for (let i = 0, j = 0; i < png.data.length; i += 4, j += 3) {
    rgb[j] = png.data[i];
    rgb[j + 1] = png.data[i + 1];
    rgb[j + 2] = png.data[i + 2];
  }
  return tf.tensor3d(rgb, [png.height, png.width, 3], 'int32');
}

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
