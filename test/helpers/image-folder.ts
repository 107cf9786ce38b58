import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { seededRandom } from '../../src/training/onnx/seeded-random.js';

/** Encodes `channels`-per-pixel bytes (1: gray, 3: RGB, 4: RGBA) as a PNG of that colour type. */
export function pngBytes(width: number, height: number, channels: 1 | 3 | 4, pixel: (x: number, y: number, c: number) => number): Uint8Array {
  const png = new PNG({ width, height, colorType: channels === 1 ? 0 : channels === 3 ? 2 : 6, inputColorType: 6, inputHasAlpha: true });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      for (let c = 0; c < 4; c++) png.data[at + c] = c === 3 && channels !== 4 ? 255 : channels === 1 ? pixel(x, y, 0) : pixel(x, y, c);
    }
  }
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : channels === 3 ? 2 : 6, inputColorType: 6 });
}

/** A JPEG of RGB pixels. */
export function jpegBytes(width: number, height: number, pixel: (x: number, y: number, c: number) => number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 4; c++) data[i * 4 + c] = c === 3 ? 255 : pixel(i % width, Math.floor(i / width), c);
  return jpeg.encode({ data, width, height }, 95).data;
}

/**
 * Class `k`'s pattern, easy to tell apart and unchanged by a left–right flip:
 * 0 horizontal stripes, 1 a bright centre disc, 2 a checkerboard; random
 * phase, colour and noise per image.
 */
export function patternPixel(label: number, seed: number, size: number): (x: number, y: number, c: number) => number {
  const r = seededRandom(seed * 7919 + label); // the library's mulberry32: reproducible images
  const phase = Math.floor(r() * 8);
  const colour = [r(), r(), r()].map((v) => 120 + 135 * v);
  const noise = Array.from({ length: size * size }, () => (r() - 0.5) * 40);
  return (x, y, c) => {
    const on =
      label === 0 ? Math.floor((y + phase) / 4) % 2 === 0
      : label === 1 ? (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 3.2) ** 2
      : (Math.floor((x + phase) / 4) + Math.floor((y + phase) / 4)) % 2 === 0;
    return Math.max(0, Math.min(255, Math.round((on ? colour[c % 3]! : 30) + noise[y * size + x]!)));
  };
}

/** Writes `perClass` PNGs of each pattern class under `dir/<name>/`; returns the class names. */
export function writePatternFolder(dir: string, options: { classes?: number; perClass: number; size?: number }): string[] {
  const { classes = 3, perClass, size = 32 } = options;
  const names = ['stripes', 'disc', 'checks'].slice(0, classes);
  names.forEach((name, label) => {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(dir, name, `${String(i).padStart(3, '0')}.png`), pngBytes(size, size, 3, patternPixel(label, i + 1, size)));
  });
  return names;
}
