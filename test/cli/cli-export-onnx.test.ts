import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { run } from '../helpers/run-cli.js';
import { writeKerasWeights } from '../helpers/keras-fixtures.js';
import { randomize } from '../helpers/randomize.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-export-onnx-'));
beforeAll(() => useBackend('cpu'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xception-ts export-onnx', () => {
  it('exports Keras HDF5 weights; ONNX Runtime reproduces the model loaded with them', async () => {
    const source = createXception({ preset: 'postact', numClasses: 5, inputShape: [71, 71, 3] });
    randomize(source);
    const weights = join(dir, 'weights.h5');
    writeFileSync(weights, await writeKerasWeights(source, 'keras2'));
    const out = join(dir, 'model.onnx');
    const result = await run('export-onnx', weights, out, '--preset', 'postact', '--classes', '5', '--input', '71,71,3');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Loaded \d+ layers \(keras2 layout\)/);
    expect(result.out).toMatch(/Wrote .*model\.onnx: \d+\.\d MB, ONNX opset 13, input 'input' \[batch, 71, 71, 3\] \(NHWC float32\), output 'output'\.$/);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const x = tf.randomUniform([2, 71, 71, 3], -1, 1, 'float32', 1);
    const y = (await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, [2, 71, 71, 3]) }))['output']!;
    const expected = (source.predict(x) as tf.Tensor).dataSync();
    const worst = (y.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0);
    expect(worst).toBeLessThan(1e-4);
    await session.release();
    source.dispose();
  });

  it("'random' and a fixed --batch", async () => {
    const out = join(dir, 'random.onnx');
    const result = await run('export-onnx', 'random', out, '--no-top', '--input', '71,71,3', '--batch', '2');
    expect(result.code).toBe(0);
    expect(result.out).toContain("Exporting 'xception' with random (untrained) weights.");
    expect(result.out).toContain("input 'input' [2, 71, 71, 3]");
    const session = await ort.InferenceSession.create(readFileSync(out));
    const y = (await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 71 * 71 * 3), [2, 71, 71, 3]) }))['output']!;
    expect(y.dims).toEqual([2, 3, 3, 2048]);
    await session.release();
  });

  it('refuses bad usage with exit code 2', async () => {
    const bad = await run('export-onnx', 'random', join(dir, 'x.onnx'), '--batch', '0');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--batch must be an integer >= 1; got "0".');
    const missing = await run('export-onnx', 'random');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('export-onnx takes <weights.h5|model.keras|model.h5|random> <model.onnx>; got "random".');
  });
});
