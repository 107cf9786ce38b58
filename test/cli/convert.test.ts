import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runCli } from '../../cli/run-cli.js';
import { toFloat16 } from '../../cli/quantize.js';
import { createXception, loadKerasWeights } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';
import { writeKerasWeights } from '../helpers/keras-fixtures.js';

// xception-ts convert: official-layout weights in, a plain tfjs layers model
// out, loaded over HTTP by tf.loadLayersModel with nothing of xception-ts.
let dir: string;
let weightsPath: string;
let server: LoopbackServer;
let base: string;
let reference: tf.LayersModel;
let input: tf.Tensor;

beforeAll(async () => {
  await useBackend('wasm');
  input = tf.randomUniform([1, 299, 299, 3], -1, 1, 'float32', 3);
  dir = mkdtempSync(join(tmpdir(), 'xception-ts-convert-'));
  weightsPath = join(dir, 'xception_weights_tf_dim_ordering_tf_kernels.h5');
  const source = createXception({ inputShape: [71, 71, 3] });
  writeFileSync(weightsPath, await writeKerasWeights(source, 'keras1'));
  source.dispose();
  reference = createXception();
  await loadKerasWeights(reference, weightsPath);
  server = await serveOnLoopback((request, response) => {
    try {
      response.writeHead(200).end(readFileSync(join(dir, decodeURIComponent(request.url ?? ''))));
    } catch {
      response.writeHead(404).end();
    }
  });
  base = server.base;
}, 120_000);

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  reference.dispose();
  input.dispose();
});

async function convert(name: string, ...flags: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['convert', weightsPath, join(dir, name), ...flags], { out: (l) => out.push(l), err: (l) => err.push(l) });
  await useBackend('wasm'); // the CLI selects the cpu backend for itself
  const size = readdirSync(join(dir, name)).reduce((n, f) => n + statSync(join(dir, name, f)).size, 0);
  return { code, out: out.join('\n'), err: err.join('\n'), size };
}

/** Max |a - b| relative to max |b|. */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);
}

describe('xception-ts convert', () => {
  let float32Size = 0;

  it('writes float32 weights that plain tf.loadLayersModel loads over HTTP, with identical predictions', async () => {
    const { code, out, size } = await convert('f32');
    expect(code).toBe(0);
    expect(out).toMatch(/Loaded 81 layers \(keras2 layout\)/);
    expect(out).toMatch(/Wrote \d+ files, 91\.\d MB \(float32 weights\)/);
    float32Size = size;
    const loaded = await tf.loadLayersModel(`${base}/f32/model.json`);
    const [a, b] = [loaded.predict(input) as tf.Tensor, reference.predict(input) as tf.Tensor];
    expect(a.dataSync()).toEqual(b.dataSync());
    tf.dispose([a, b]);
    loaded.dispose();
  }, 120_000);

  it.each([
    ['float16', 0.5, 1e-2],
    ['uint8', 0.25, 0.5],
  ] as const)('--quantize %s: about %s of the size, predictions close to float32', async (kind, ratio, tolerance) => {
    const { code, out, size } = await convert(kind, '--quantize', kind);
    expect(code).toBe(0);
    expect(out).toContain(`(${kind} weights)`);
    expect(Math.abs(size / float32Size - ratio)).toBeLessThan(0.02);
    const loaded = await tf.loadLayersModel(`${base}/${kind}/model.json`);
    const [a, b] = [loaded.predict(input) as tf.Tensor, reference.predict(input) as tf.Tensor];
    expect(relativeError(a, b)).toBeLessThan(tolerance);
    tf.dispose([a, b]);
    loaded.dispose();
  }, 120_000);

  it('refuses a bad --quantize and a missing file', async () => {
    expect((await runCli(['convert', weightsPath, join(dir, 'x'), '--quantize', 'int4'], { out: () => {}, err: () => {} }))).toBe(2);
    const err: string[] = [];
    expect(await runCli(['convert', join(dir, 'nope.h5'), join(dir, 'y')], { out: () => {}, err: (l) => err.push(l) })).toBe(1);
    expect(err.join('')).toContain('cannot read the weight file');
  });
});

describe('float16 encoding', () => {
  it('matches the IEEE binary16 values tfjs decodes', () => {
    const cases: [number, number][] = [[0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [1e6, 0x7c00],
      [5.960464477539063e-8, 0x0001], [6.103515625e-5, 0x0400], [0.333251953125, 0x3555], [Infinity, 0x7c00]];
    for (const [value, bits] of cases) expect(toFloat16(value)).toBe(bits);
    expect(toFloat16(Number.NaN) & 0x7c00).toBe(0x7c00);
  });
});
