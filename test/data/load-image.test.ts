import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { IMAGE_LIMITS, loadImage, XceptionConfigError, XceptionImageError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { encodeJpegRgba, encodePngRgba, jpegDeclaring, patternRgba, pngDeclaring } from '../helpers/image-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-ts-load-image-'));
const W = 12;
const H = 9;
const rgba = patternRgba(W, H);
const pngBytes = encodePngRgba(rgba, W, H);
const pngPath = join(dir, 'pattern.png');

beforeAll(async () => {
  await useBackend('cpu');
  writeFileSync(pngPath, pngBytes);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The RGB (or luminance) values of the pattern, computed independently of the library. */
function expected(channels: 1 | 3): number[] {
  const out: number[] = [];
  for (let i = 0; i < W * H; i++) {
    const [r, g, b] = [rgba[i * 4]!, rgba[i * 4 + 1]!, rgba[i * 4 + 2]!];
    if (channels === 3) out.push(r, g, b);
    else out.push(Math.round(0.299 * r + 0.587 * g + 0.114 * b));
  }
  return out;
}

/** Runs `fn`, expecting an XceptionImageError; returns its message and how long it took. */
async function refusal(fn: () => Promise<unknown>): Promise<{ message: string; ms: number }> {
  const before = tf.memory().numTensors;
  const started = performance.now();
  const error = await fn().then(() => null, (e: unknown) => e);
  const ms = performance.now() - started;
  expect(error).toBeInstanceOf(XceptionImageError);
  expect(tf.memory().numTensors).toBe(before);
  return { message: (error as Error).message, ms };
}

describe('loadImage in Node', () => {
  it('reads a PNG from a path, a file: URL, bytes, an ArrayBuffer and a Blob: int32 [h, w, 3], the exact pixels', async () => {
    const sources = [pngPath, pathToFileURL(pngPath), pngBytes, pngBytes.slice().buffer, new Blob([pngBytes as Uint8Array<ArrayBuffer>])];
    for (const source of sources) {
      const image = await loadImage(source);
      expect(image.shape).toEqual([H, W, 3]);
      expect(image.dtype).toBe('int32');
      expect(Array.from(image.dataSync())).toEqual(expected(3));
      image.dispose();
    }
  });

  it('channels 1 is the luminance 0.299 R + 0.587 G + 0.114 B (Pillow L), within rounding', async () => {
    const image = await loadImage(pngPath, { channels: 1 });
    expect(image.shape).toEqual([H, W, 1]);
    const got = Array.from(image.dataSync());
    expected(1).forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(1));
    image.dispose();
  });

  it('reads a JPEG as jpeg-js decodes it', async () => {
    const bytes = encodeJpegRgba(rgba, W, H, 90);
    const want = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true }).data;
    const image = await loadImage(bytes);
    expect(image.shape).toEqual([H, W, 3]);
    const got = image.dataSync();
    for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) expect(got[i * 3 + c]).toBe(want[i * 4 + c]);
    image.dispose();
  });

  it('size resizes bilinearly with half-pixel centres and rounds back to int32 0–255', async () => {
    const before = tf.memory().numTensors;
    const image = await loadImage(pngPath, { size: [5, 7] });
    expect(image.shape).toEqual([5, 7, 3]);
    expect(image.dtype).toBe('int32');
    const want = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(expected(3), [H, W, 3]), [5, 7], false, true).round().dataSync());
    expect(Array.from(image.dataSync())).toEqual(Array.from(want));
    image.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a 69-byte PNG declaring 30000×30000 before decoding, in milliseconds', async () => {
    const bomb = pngDeclaring(30000, 30000);
    expect(bomb.length).toBe(69);
    const { message, ms } = await refusal(() => loadImage(bomb));
    expect(message).toBe(
      'image bytes: the PNG declares 30000×30000 = 900,000,000 pixels, over the pixel cap of 50,000,000 (maxPixels; IMAGE_LIMITS.maxPixels by default): nothing was decoded. Pass a larger maxPixels if the image is trusted.',
    );
    expect(ms).toBeLessThan(200);
  });

  it('refuses a small JPEG whose frame header declares 11000×9000, and honours a lower maxPixels', async () => {
    const { message } = await refusal(() => loadImage(jpegDeclaring(11000, 9000)));
    expect(message).toContain('the JPEG declares 11000×9000 = 99,000,000 pixels, over the pixel cap of 50,000,000');
    const small = await refusal(() => loadImage(pngPath, { maxPixels: 100 }));
    expect(small.message).toContain(`${pngPath}: the PNG declares 12×9 = 108 pixels, over the pixel cap of 100`);
  });

  it('names a truncated PNG as such (not the decoder’s own message)', async () => {
    const { message } = await refusal(() => loadImage(pngBytes.subarray(0, pngBytes.length - 20)));
    expect(message).toMatch(/^image bytes: a truncated PNG \(its IDAT chunk needs \d+ bytes; the file ends after \d+\)\.$/);
  });

  it('refuses devices, folders, missing files and files over maxBytes before reading them', async () => {
    expect((await refusal(() => loadImage('/dev/zero'))).message).toBe(
      '/dev/zero: not a regular file (a device, pipe or socket); loadImage reads PNG and JPEG files.',
    );
    expect((await refusal(() => loadImage(dir))).message).toBe(`${dir}: not a regular file (a folder); loadImage reads PNG and JPEG files.`);
    expect((await refusal(() => loadImage(join(dir, 'missing.png')))).message).toBe(
      `cannot read ${join(dir, 'missing.png')}: no such file or folder (ENOENT).`,
    );
    expect((await refusal(() => loadImage(pngPath, { maxBytes: 100 }))).message).toBe(
      `${pngPath}: ${pngBytes.length} bytes, over the file-size cap of 100 (maxBytes; IMAGE_LIMITS.maxBytes by default): nothing was read.`,
    );
    expect((await refusal(() => loadImage(new Uint8Array([1, 2, 3, 4])))).message).toContain('image bytes: not a PNG or JPEG image');
  });

  it('refuses bad options and sources with typed errors', async () => {
    await expect(loadImage(pngPath, { sizes: [2, 2] } as never)).rejects.toThrow(XceptionConfigError);
    await expect(loadImage(pngPath, { channels: 4 as never })).rejects.toThrow('loadImage: channels must be 1 or 3; got 4.');
    await expect(loadImage(pngPath, { size: [0, 3] })).rejects.toThrow('loadImage: size must be [height, width], two positive integers');
    await expect(loadImage(pngPath, { maxPixels: -1 })).rejects.toThrow('loadImage: maxPixels must be a positive integer; got -1.');
    await expect(loadImage(42 as never)).rejects.toThrow(XceptionImageError);
  });

  it('documents its defaults in IMAGE_LIMITS', () => {
    expect(IMAGE_LIMITS).toEqual({ maxPixels: 50_000_000, maxBytes: 256 * 2 ** 20 });
    expect(Object.isFrozen(IMAGE_LIMITS)).toBe(true);
  });
});
