// Issue 21, row 15 and the newcomer's findings: export-keras takes its output
// kind from the name in any case and refuses other names; export-onnx takes a
// whole Keras model file; model flags with a whole-model file and --classes with
// --no-top are refused (they were silently ignored); inspect says when a file
// was written by xception-ts; `help inspect` has no empty Options section;
// inspect of a hostile graph returns.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception, saveKerasModel } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { configLayers, firstHistory, kerasArchive, tinyConfig, tinyDenseModel, writeGzipWeights } from '../helpers/hostile-keras-fixtures.js';
import { run } from '../helpers/run-cli.js';

let dir: string;
let modelFile: string;
let model: tf.LayersModel;

beforeAll(async () => {
  await useBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'xception-ts-cli-hostile-'));
  model = createXception({ preset: 'tiny', inputShape: [32, 32, 3], numClasses: 2 });
  modelFile = join(dir, 'tiny.keras');
  writeFileSync(modelFile, await saveKerasModel(model));
});

afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const SMALL = ['--preset', 'tiny', '--input', '32,32,1', '--classes', '2'];

describe('export-keras: the output name chooses the kind, in any case; other names are refused', () => {
  it('OUT.KERAS is a .keras archive (it used to get Keras 2 HDF5 weights)', async () => {
    const out = join(dir, 'OUT.KERAS');
    const result = await run('export-keras', 'random', out, ...SMALL);
    expect(result.code).toBe(0);
    expect([...readFileSync(out).subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]); // a zip
    expect(result.out).toMatch(/a Keras 3 archive/);
  });

  it('out.txt is a usage error and nothing is written', async () => {
    const out = join(dir, 'out.txt');
    const result = await run('export-keras', 'random', out, ...SMALL);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/export-keras writes a \.keras archive, \.weights\.h5 \(Keras 3 weights\) or \.h5 \(Keras 2 weights\), chosen by the output name; got ".*out\.txt"/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('whole Keras model files and model flags', () => {
  it('export-onnx takes a .keras file; the ONNX model computes what the Keras model does', async () => {
    const out = join(dir, 'from-keras.onnx');
    const result = await run('export-onnx', modelFile, out);
    expect(result.code, result.err).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const x = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => Math.sin(i));
    const got = (await session.run({ input: new ort.Tensor('float32', x, [1, 32, 32, 3]) }))['output']!.data as Float32Array;
    const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [1, 32, 32, 3])) as tf.Tensor).dataSync());
    Array.from(expected).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    await session.release();
  });

  it('--preset with a whole-model file, and --classes with --no-top, are usage errors', async () => {
    const withPreset = await run('export-onnx', modelFile, join(dir, 'x.onnx'), '--preset', 'mini');
    expect(withPreset.code).toBe(2);
    expect(withPreset.err).toMatch(/tiny\.keras is a whole Keras model file: the model comes from it, so --preset cannot apply; leave it out\./);
    const convert = await run('convert', modelFile, join(dir, 'tfjs'), '--input', '32,32,3', '--classes', '3');
    expect(convert.code).toBe(2);
    expect(convert.err).toMatch(/so --classes, --input cannot apply; leave them out\./);
    const headless = await run('summary', '--no-top', '--classes', '10');
    expect(headless.code).toBe(2);
    expect(headless.err).toMatch(/--classes sets the size of the classifier, which --no-top leaves out; pass one or the other\./);
  });
});

describe('inspect', () => {
  it("says a .keras file was written by xception-ts (its Keras version is the format's)", async () => {
    const result = await run('inspect', modelFile);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Keras version: 3\.10\.0 \(the format version; written by xception-ts, not by Keras\)$/m);
  });

  it('a graph with a cycle is listed with the reason (it used to hang the CLI)', async () => {
    const tiny = tinyDenseModel();
    const config = tinyConfig(tiny);
    firstHistory(configLayers(config)[1]!)[0] = 'out';
    const path = join(dir, 'cycle.keras');
    writeFileSync(path, kerasArchive(config, await writeGzipWeights(tiny)));
    tiny.dispose();
    const result = await run('inspect', path);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Cannot be loaded: .*layers 'hidden', 'out' take their inputs from each other \(a cycle\)/);
    const load = await run('convert', path, join(dir, 'cycle-tfjs'));
    expect(load.code).toBe(1);
    expect(load.err).toMatch(/take their inputs from each other/);
  });

  it('help inspect has no empty Options section', async () => {
    const result = await run('help', 'inspect');
    expect(result.code).toBe(0);
    expect(result.out).not.toMatch(/Options:/);
    expect((await run('help', 'convert')).out).toMatch(/Options:\n {2}--preset P/);
  });
});
