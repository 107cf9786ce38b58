import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { run } from '../helpers/run-cli.js';
import { TIMM_REFERENCE_DIR } from '../helpers/timm-reference.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-ts-classify-'));
const SMALL = ['--weights', 'random', '--input', '71,71,3', '--classes', '4'];

/** A 40×30 image, red on the left, blue on the right. */
function pixels(): { data: Buffer; width: number; height: number } {
  const width = 40;
  const height = 30;
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const left = i % width < width / 2;
    data.set(left ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
  }
  return { data, width, height };
}

let pngPath: string;
let jpegPath: string;

beforeAll(async () => {
  await useBackend('cpu');
  const image = pixels();
  const png = new PNG({ width: image.width, height: image.height });
  png.data = image.data;
  pngPath = join(dir, 'image.png');
  writeFileSync(pngPath, PNG.sync.write(png));
  jpegPath = join(dir, 'image.jpg');
  writeFileSync(jpegPath, jpeg.encode(image, 90).data);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xception-ts classify', () => {
  it('prints the top-k of PNG and JPEG images, and JSON', { timeout: 60_000 }, async () => {
    const before = tf.memory().numTensors;
    const table = await run('classify', pngPath, jpegPath, ...SMALL, '--top', '2');
    expect(tf.memory().numTensors).toBe(before);
    expect(table.err).toBe('Using random (untrained) weights: the classes mean nothing.');
    expect(table.code).toBe(0);
    const lines = table.out.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(`${pngPath}:`);
    expect(lines[1]).toMatch(/^ {2}1\. 0\.\d{4} {2}class [0-3] \([0-3]\)$/);
    expect(lines[3]).toBe(`${jpegPath}:`);

    const json = await run('classify', pngPath, ...SMALL, '--top', '4', '--json');
    expect(json.code).toBe(0);
    const [result] = JSON.parse(json.out) as { image: string; predictions: { classIndex: number; label: string; probability: number }[] }[];
    expect(result!.image).toBe(pngPath);
    expect(result!.predictions.map((p) => p.classIndex).sort()).toEqual([0, 1, 2, 3]);
    const total = result!.predictions.reduce((s, p) => s + p.probability, 0);
    expect(total).toBeCloseTo(1, 5);
    const probabilities = result!.predictions.map((p) => p.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
  });

  it('--engine onnx gives the classes and probabilities of --engine tfjs', { timeout: 90_000 }, async () => {
    // The same random weights for both engines: a weight file written from one model.
    const { createXception } = await import('../../src/index.js');
    const { writeKerasWeights } = await import('../helpers/keras-fixtures.js');
    const model = createXception({ inputShape: [71, 71, 3], numClasses: 4 });
    const weights = join(dir, 'w.h5');
    writeFileSync(weights, await writeKerasWeights(model, 'keras2'));
    model.dispose();
    const flags = ['--weights', weights, '--input', '71,71,3', '--classes', '4', '--top', '4', '--json'];
    const viaTfjs = await run('classify', pngPath, ...flags);
    const viaOnnx = await run('classify', pngPath, ...flags, '--engine', 'onnx');
    expect(viaOnnx.err).toBe('');
    expect(viaOnnx.code).toBe(0);
    type Result = { predictions: { classIndex: number; probability: number }[] }[];
    const [a] = JSON.parse(viaTfjs.out) as Result;
    const [b] = JSON.parse(viaOnnx.out) as Result;
    const byClass = (r: Result[number]) => Object.fromEntries(r.predictions.map((p) => [p.classIndex, p.probability]));
    const [pa, pb] = [byClass(a!), byClass(b!)];
    for (const k of Object.keys(pa)) expect(pb[k]).toBeCloseTo(pa[k]!, 4);
  });

  it('writes the Grad-CAM overlay as a PNG the size of the image (as a real process)', { timeout: 90_000 }, () => {
    const camPath = join(dir, 'cam.png');
    const main = new URL('../../cli/main.ts', import.meta.url).pathname;
    const result = spawnSync(process.execPath, ['--import', 'tsx', main, 'classify', pngPath, ...SMALL, '--cam', camPath], {
      encoding: 'utf8',
      timeout: 80_000,
    });
    expect(result.stderr).toBe('Using random (untrained) weights: the classes mean nothing.\n');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Wrote the Grad-CAM of "class \\d" \\(layer block14_sepconv2_act\\) over .*image\\.png to .*cam\\.png\\.\n$`));
    const overlay = PNG.sync.read(readFileSync(camPath));
    expect([overlay.width, overlay.height]).toEqual([40, 30]);
    // Every pixel is the image blended with a jet colour at alpha 0.4: red keeps at least 0.6 · 255 on the left.
    expect(overlay.data[0]!).toBeGreaterThanOrEqual(153);
    expect(overlay.data[3]).toBe(255);
  });

  // timm's seeded xception41 (../shared/reference/timm/, 54 MB, not in the repository): skipped with a notice when absent.
  if (!TIMM_REFERENCE_DIR) console.warn('shared/reference/timm not found: the CLI timm-checkpoint test is skipped (set XCEPTION_TS_TIMM_REFERENCE).');
  it.skipIf(!TIMM_REFERENCE_DIR)('classifies with a timm checkpoint given as --weights, as the library does with it', { timeout: 120_000 }, async () => {
    // At 96×96 to keep the cpu backend quick.
    const checkpoint = join(TIMM_REFERENCE_DIR ?? '', 'xception41.safetensors');
    const { code, out } = await run('classify', pngPath, '--preset', 'xception41', '--weights', checkpoint, '--input', '96,96,3', '--top', '3', '--json');
    expect(code).toBe(0);
    const [{ predictions }] = JSON.parse(out) as [{ predictions: { classIndex: number; probability: number }[] }];

    const model = await createXception({ preset: 'xception41', inputShape: [96, 96, 3], weights: checkpoint });
    const image = pixels();
    const probabilities = tf.tidy(() => {
      const rgb = tf.tensor3d(new Uint8Array(image.data), [image.height, image.width, 4], 'int32').slice([0, 0, 0], [-1, -1, 3]);
      const input = tf.image.resizeBilinear(rgb as tf.Tensor3D, [96, 96]).div(127.5).sub(1);
      return (model.predict(input.expandDims(0)) as tf.Tensor).dataSync();
    });
    model.dispose();
    const want = Array.from(probabilities, (p, i) => [i, p] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
    expect(predictions.map((p) => p.classIndex)).toEqual(want.map(([i]) => i));
    predictions.forEach((p, k) => expect(p.probability).toBeCloseTo(want[k]![1], 5));
  });

  it('refuses what does not fit, in flag terms, exit 2 with a one-line hint', async () => {
    const cases: [string[], string][] = [
      [['classify', pngPath, '--top', '0'], '--top must be an integer from 1 to 1000; got "0".'],
      [['classify', pngPath, '--engine', 'torch'], '--engine must be one of tfjs, onnx; got "torch".'],
      [['classify', pngPath, jpegPath, '--cam', join(dir, 'c.png')], '--cam writes one overlay: give one image, not 2.'],
      [['classify', pngPath, '--cam', pngPath], `refusing to write the output file ${JSON.stringify(pngPath)} over the input ${JSON.stringify(pngPath)}; pick another path.`],
      [['classify', pngPath, '--quantize', 'uint8'], 'classify does not take --quantize.'],
      [['classify', pngPath, '--preset', 'postact'], '--weights imagenet: --preset postact has no ImageNet weights; presets with them: keras, xception41, xception65, xception71, xception41p, xception65p.'],
      [['classify', pngPath, '--preset', 'xception65', '--classes', '10'], '--weights imagenet has 1000 classes; drop --classes 10.'],
      [['classify', pngPath, '--input', '150,150,3'], `--weights imagenet needs --input 299,299,3 (the top of legacy_xception.tf_in1k is 299×299); got "150,150,3".`],
      [['classify', pngPath, '--preset', 'xception41', '--input', '289,289,3'], `--weights imagenet needs --input 299,299,3 (the top of xception41.tf_in1k is 299×299); got "289,289,3".`],
      [['classify', pngPath, '--colour'], "Unknown option '--colour'."],
    ];
    for (const [argv, message] of cases) {
      const { code, err, out } = await run(...argv);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toBe(`xception-ts: ${message}\nTry 'xception-ts help classify'.`);
    }
  });

  it('reports unreadable and undecodable images in one line, exit 1', async () => {
    const missing = await run('classify', join(dir, 'missing.png'), ...SMALL);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`xception-ts: cannot read ${join(dir, 'missing.png')}: no such file or directory (ENOENT)`);
    const text = join(dir, 'notes.png');
    writeFileSync(text, 'hello');
    const bad = await run('classify', text, ...SMALL);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(`xception-ts: ${text}: not a PNG or JPEG image.`);
  });
});
