import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, loadKerasModel, loadKerasWeights } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { run } from '../helpers/run-cli.js';
import { kerasFilePath, maxAbsDiff, readF32 } from '../helpers/keras-reference-files.js';
import { nestedXceptionModel, writeKerasArchive } from '../helpers/keras3-fixtures.js';

const FER = 'fer2013_mini_XCEPTION.102-0.66';
let dir: string;

beforeAll(async () => {
  await useBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'xception-ts-keras-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xception-ts inspect', () => {
  it('prints format, Keras version, the layer table and the parameter count of a real Keras 2.0.5 file', async () => {
    const { code, out } = await run('inspect', kerasFilePath(`${FER}.hdf5`));
    expect(code).toBe(0);
    expect(out).toContain('Format: full-model HDF5 (model.save)');
    expect(out).toContain('Keras version: 2.0.5');
    expect(out).toMatch(/^2 +conv2d_1 +Conv2D +72$/m);
    expect(out).toContain('Layers: 46');
    expect(out).toContain('Total params: 58,423');
  });

  it('lists nested layers of a .keras archive; a damaged file is exit code 1 with the reason', async () => {
    const path = join(dir, 'nested.keras');
    const model = nestedXceptionModel();
    writeFileSync(path, await writeKerasArchive(model));
    const { code, out } = await run('inspect', path);
    expect(code).toBe(0);
    expect(out).toContain('Format: Keras 3 archive (.keras)');
    expect(out).toContain('Keras version: 3.8.0');
    expect(out).toMatch(/^\d+ +head\/scores +Dense +195$/m);
    expect(out).toContain(`Total params: ${model.countParams().toLocaleString('en-US')}`);
    model.dispose();
    writeFileSync(join(dir, 'broken.keras'), readFileSync(path).subarray(0, 100));
    const broken = await run('inspect', join(dir, 'broken.keras'));
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/broken\.keras starts like a zip archive \(\.keras\) but cannot be unpacked/);
  });
});

describe('xception-ts convert and export-keras with Keras model files', () => {
  it('convert takes a full-model .h5 without a preset; the tfjs model gives the reference outputs', async () => {
    const out = join(dir, 'fer-tfjs');
    const result = await run('convert', kerasFilePath(`${FER}.hdf5`), out);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Loaded the Keras model 'model_1' .* \(58,423 params\)/);
    const model = await tf.loadLayersModel(tf.io.fromMemory(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).modelTopology, (
      JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).weightsManifest[0].weights
    ), readFileSync(join(out, 'group1-shard1of1.bin')).buffer.slice(0) as ArrayBuffer));
    const y = tf.tidy(() => (model.predict(tf.tensor4d(readF32(`${FER}.input.f32`), [2, 64, 64, 1])) as tf.Tensor).dataSync());
    expect(maxAbsDiff(y, readF32(`${FER}.output.f32`))).toBeLessThan(1e-4);
    model.dispose();
  });

  it('export-keras writes .keras from a model file, and Keras 2 / Keras 3 weights for a preset', async () => {
    const keras = join(dir, 'fer.keras');
    const a = await run('export-keras', kerasFilePath(`${FER}.hdf5`), keras);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/Wrote .*fer\.keras: .* 58,423 params, a Keras 3 archive/);
    const model = await loadKerasModel(keras);
    const y = tf.tidy(() => (model.predict(tf.tensor4d(readF32(`${FER}.input.f32`), [2, 64, 64, 1])) as tf.Tensor).dataSync());
    expect(maxAbsDiff(y, readF32(`${FER}.output.f32`))).toBeLessThan(1e-4);
    model.dispose();

    for (const name of ['mini.weights.h5', 'mini.h5']) {
      const path = join(dir, name);
      // A whole-model file brings its own model: model flags are refused with it (they used to be ignored).
      const b = await run('export-keras', kerasFilePath(`${FER}.hdf5`), path);
      expect(b.code).toBe(0);
      const target = createXception({ preset: 'mini', inputShape: [64, 64, 1], numClasses: 7 });
      const { layout } = await loadKerasWeights(target, path);
      expect(layout).toBe(name.endsWith('.weights.h5') ? 'keras3' : 'keras2');
      const z = tf.tidy(() => (target.predict(tf.tensor4d(readF32(`${FER}.input.f32`), [2, 64, 64, 1])) as tf.Tensor).dataSync());
      expect(maxAbsDiff(z, readF32(`${FER}.output.f32`))).toBeLessThan(1e-4);
      target.dispose();
    }
  });

  it('export-keras with random weights for a preset, and bad usage', async () => {
    const path = join(dir, 'tiny.keras');
    const r = await run('export-keras', 'random', path, '--preset', 'tiny', '--input', '48,48,1', '--classes', '2');
    expect(r.code).toBe(0);
    expect(r.out).toContain("Exporting 'xception' with random (untrained) weights.");
    const model = await loadKerasModel(path);
    expect(model.countParams()).toBe(createXceptionParams());
    model.dispose();
    const usage = await run('export-keras', 'random');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('export-keras takes <weights.h5|model.keras|model.h5|random> <out.keras|out.weights.h5|out.h5>; got "random".');
  });
});

function createXceptionParams(): number {
  const m = createXception({ preset: 'tiny', inputShape: [48, 48, 1], numClasses: 2 });
  const n = m.countParams();
  m.dispose();
  return n;
}
