// Data: a folder of class sub-folders through xception-ts' imageDatasetFromDirectory (decoded,
// resized and augmented batch by batch, so the folder may be larger than memory), or generated
// stripes written once as PNGs into such a folder.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { imageDatasetFromDirectory, type ImageDataset } from 'xception-ts';

export interface Data {
  classNames: readonly string[];
  train: ImageDataset;
  validation: ImageDataset | undefined;
}

/**
 * A folder with one sub-folder per class: 20% of each class held out (`validation`); training images
 * get a random crop (from up to 1.15× the input size) and a random horizontal flip.
 */
export async function folderData(dir: string, options: { size: number; batchSize: number; validation: number }): Promise<Data> {
  const { train, validation, classNames } = await imageDatasetFromDirectory(dir, {
    imageSize: options.size,
    batchSize: options.batchSize,
    validationSplit: options.validation,
    seed: 42,
    augment: { flip: true, crop: 0.15 },
  });
  return { classNames, train, validation };
}

/**
 * Writes a generated, learnable data set into `dir` (once): class k is a pattern of stripes at angle
 * k·90°/(classes − 1), with a random phase, frequency, colour, brightness and noise per image. (Angles
 * stay within [0°, 90°] so that a horizontal flip, θ → 180° − θ, never turns one class into another.)
 */
export function writeStripes(dir: string, classes: number, samples: number, size: number): string {
  if (!(Number.isInteger(classes) && classes >= 2)) throw new Error(`--classes must be an integer ≥ 2; got ${classes}.`);
  for (let i = 0; i < samples; i++) {
    const label = i % classes;
    const folder = join(dir, `stripes-${String(Math.round((label * 90) / (classes - 1))).padStart(2, '0')}deg`);
    const file = join(folder, `${String(i).padStart(5, '0')}.png`);
    if (existsSync(file)) continue;
    mkdirSync(folder, { recursive: true });
    writeFileSync(file, PNG.sync.write(Object.assign(new PNG({ width: size, height: size }), { data: stripes(label, classes, i + 1, size) })));
  }
  return dir;
}

/** Class `label`'s pattern as RGBA bytes: stripes at the class' angle; everything else random per seed. */
function stripes(label: number, classes: number, seed: number, size: number): Buffer {
  const random = mulberry32(seed * 9973);
  const angle = (label * Math.PI) / 2 / (classes - 1) + (random() - 0.5) * 0.1;
  const frequency = (2 * Math.PI) / (size / (3 + random() * 3));
  const phase = random() * 2 * Math.PI;
  const colour = [random(), random(), random()].map((c) => 80 + 150 * c);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const data = Buffer.alloc(size * size * 4, 255);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const wave = 0.5 + 0.5 * Math.sin((x * dx + y * dy) * frequency + phase);
      for (let c = 0; c < 3; c++) data[(y * size + x) * 4 + c] = Math.min(255, Math.max(0, colour[c]! * wave + 40 * (random() - 0.5)));
    }
  }
  return data;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
