import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, loadTimmWeights, XceptionWeightsError, type XceptionPresetName } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { floatToHalf, writeSafetensors, type TensorToWrite } from '../helpers/safetensors-writer.js';
import { TIMM_REFERENCE_DIR, timmMeta } from '../helpers/timm-reference.js';
import { timmStateDictSpec, type TimmTensorSpec } from '../helpers/timm-state-dict.js';

beforeAll(() => useBackend('cpu'));

// Values k/1024 for k in [-1000, 1000]: exact in float16 and float32, so sums compare exactly.
const HALF = Array.from({ length: 2001 }, (_, k) => floatToHalf((k - 1000) / 1024));
const valueAt = (tensor: number, i: number) => ((tensor * 7919 + i * 104_729) % 2001 + 2001) % 2001;

/** The values written for tensor `j` of a spec (regenerated on demand rather than kept). */
function valuesOf(spec: TimmTensorSpec[], name: string): Float32Array {
  const j = spec.findIndex((s) => s.name === name);
  const data = new Float32Array(spec[j]!.shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (valueAt(j, i) - 1000) / 1024;
  return data;
}

/** A timm-named float16 checkpoint with deterministic values; returns it and the sum of its float values. */
function timmCheckpoint(spec: TimmTensorSpec[]): { bytes: Uint8Array; sum: number } {
  let sum = 0;
  const tensors: TensorToWrite[] = spec.map((s, j) => {
    if (s.counter) return { name: s.name, dtype: 'I64', shape: s.shape, data: [12345] };
    const n = s.shape.reduce((a, b) => a * b, 1);
    const raw = new Uint8Array(2 * n);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      const k = valueAt(j, i);
      view.setUint16(2 * i, HALF[k]!, true);
      sum += k - 1000;
    }
    return { name: s.name, dtype: 'F16', shape: s.shape, data: [], raw };
  });
  return { bytes: writeSafetensors(tensors), sum: sum / 1024 };
}

/** A float32 file of the spec's names, zeros except where `special` says; counters int64. */
function float32File(spec: TimmTensorSpec[], special: (name: string) => { dtype?: 'I64'; first?: number } = () => ({})): Uint8Array {
  return writeSafetensors(spec.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const { dtype, first } = special(s.name);
    if (s.counter || dtype === 'I64') return { name: s.name, dtype: 'I64', shape: s.shape, data: [], raw: new Uint8Array(8 * n) };
    const raw = new Uint8Array(4 * n);
    if (first !== undefined) new DataView(raw.buffer).setFloat32(0, first, true);
    return { name: s.name, dtype: 'F32', shape: s.shape, data: [], raw };
  }));
}

function weightSum(model: tf.LayersModel): number {
  let sum = 0;
  for (const w of model.weights) for (const v of w.read().dataSync()) sum += v;
  return sum;
}

/** Our weight (tfjs layout) next to the timm tensor turned into that layout by the documented transposition. */
function expectLanded(model: tf.LayersModel, spec: TimmTensorSpec[], timmName: string, layer: string, index: number): void {
  const s = spec.find((x) => x.name === timmName)!;
  const perm = s.shape.length === 4 ? (s.shape[1] === 1 && layer.includes('depthwise') ? [2, 3, 0, 1] : [2, 3, 1, 0]) : s.shape.length === 2 ? [1, 0] : null;
  tf.tidy(() => {
    const theirs = tf.tensor(valuesOf(spec, timmName), s.shape);
    const expected = perm ? tf.transpose(theirs, perm) : theirs;
    const ours = model.getLayer(layer).getWeights()[index]!;
    expect(ours.shape).toEqual(expected.shape);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(expected.dataSync()));
  });
}

describe('loadTimmWeights: the mapping for every aligned preset, from timm-named files', () => {
  it.skipIf(!TIMM_REFERENCE_DIR).each(['xception41', 'xception41p'] as const)(
    "%s: the names and shapes written from timm's block_cfg are the shared timm checkpoint's",
    (preset) => {
      const meta = timmMeta().models[preset]!;
      const b = readFileSync(join(TIMM_REFERENCE_DIR!, meta.weights));
      const n = Number(b.readBigUInt64LE(0));
      const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[] }>;
      delete header['__metadata__'];
      const spec = timmStateDictSpec(preset);
      expect(spec.length).toBe(meta.keys);
      expect(Object.fromEntries(spec.map((s) => [s.name, s.shape]))).toEqual(Object.fromEntries(Object.entries(header).map(([k, v]) => [k, v.shape])));
    },
  );

  it.each([
    ['xception65', [
      ['blocks.20.stack.conv3.conv_pw.weight', 'block22_sepconv3_pointwise', 0],
      ['blocks.19.shortcut.conv.weight', 'block21_residual_conv', 0],
      ['blocks.10.stack.conv2.bn_dw.running_var', 'block12_sepconv2_depthwise_bn', 3],
      ['blocks.2.stack.conv3.conv_dw.weight', 'block4_sepconv3_depthwise', 0],
      ['stem.1.bn.bias', 'block1_conv2_bn', 1],
    ]],
    ['xception71', [
      ['blocks.4.shortcut.conv.weight', 'block6_residual_conv', 0],
      ['blocks.4.shortcut.bn.running_mean', 'block6_residual_bn', 2],
      ['blocks.1.stack.conv1.conv_dw.weight', 'block3_sepconv1_depthwise', 0],
      ['stem.0.conv.weight', 'block1_conv1', 0],
    ]],
    ['xception65p', [
      ['stem.1.weight', 'block1_conv2', 0],
      ['blocks.0.shortcut.weight', 'block2_residual_conv', 0],
      ['blocks.19.norm.weight', 'block21_preact_bn', 0],
      ['blocks.5.stack.conv3.norm.running_mean', 'block7_sepconv3_bn', 2],
      ['blocks.20.stack.conv1.conv_dw.weight', 'block22_sepconv1_depthwise', 0],
    ]],
  ] as [XceptionPresetName & ('xception65' | 'xception71' | 'xception65p'), [string, string, number][]][])(
    '%s: every tensor of a timm-named float16 file lands in its layer, transposed',
    async (preset, spots) => {
      const spec = timmStateDictSpec(preset);
      const { bytes, sum } = timmCheckpoint(spec);
      const model = createXception({ preset, inputShape: [32, 32, 3] });
      const result = await loadTimmWeights(model, bytes);
      const counters = spec.filter((s) => s.counter).length;
      expect(result.tensorsLoaded).toBe(spec.length - counters);
      expect(result.skipped).toHaveLength(counters);
      expect(result.valuesLoaded).toBe(model.countParams());
      expect(weightSum(model)).toBeCloseTo(sum, 3); // every value landed somewhere
      for (const [timmName, layer, index] of [...spots, ['head.fc.weight', 'predictions', 0] as [string, string, number]]) {
        expectLanded(model, spec, timmName, layer, index);
      }
      model.dispose();
    },
    180_000, // 17 s measured alone (load average 6 on 2 cores); several times that on a busier machine
  );
});

describe('loadTimmWeights: a checkpoint that does not fit changes nothing', () => {
  // A small file: xception41p's names with a 10-class head, written once.
  let spec: TimmTensorSpec[];
  let file: ReturnType<typeof timmCheckpoint>;
  let model: tf.LayersModel;
  beforeAll(() => {
    spec = timmStateDictSpec('xception41p', 10);
    file = timmCheckpoint(spec);
    model = createXception({ preset: 'xception41p', inputShape: [32, 32, 3] });
  });

  const snapshot = () => model.getLayer('block5_sepconv2_pointwise').getWeights()[0]!.dataSync().slice();

  async function expectRefused(bytes: Uint8Array, message: string | RegExp, options = {}): Promise<void> {
    const before = snapshot();
    const tensors = tf.memory().numTensors;
    const promise = loadTimmWeights(model, bytes, options);
    await expect(promise).rejects.toThrow(XceptionWeightsError);
    await expect(promise).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(snapshot()).toEqual(before);
  }

  it('a head of another size: refused with a hint, then loaded with skipMismatch (head kept)', async () => {
    await expectRefused(file.bytes, /1 shape differs|2 shapes differ/);
    await expectRefused(file.bytes, 'For a head of another size, pass skipMismatch: true (or build with includeTop: false).');
    const head = model.getLayer('predictions').getWeights()[0]!.dataSync().slice();
    const result = await loadTimmWeights(model, file.bytes, { skipMismatch: true });
    expect(result.skipped).toEqual(expect.arrayContaining(['head.fc.weight', 'head.fc.bias']));
    expect(model.getLayer('predictions').getWeights()[0]!.dataSync()).toEqual(head);
    expectLanded(model, spec, 'blocks.3.stack.conv2.conv_pw.weight', 'block5_sepconv2_pointwise', 0);
  });

  it('includeTop: false ignores the head', async () => {
    const noTop = createXception({ preset: 'xception41p', includeTop: false, inputShape: [32, 32, 3] });
    const result = await loadTimmWeights(noTop, file.bytes);
    expect(result.skipped).toEqual(expect.arrayContaining(['head.fc.weight', 'head.fc.bias']));
    noTop.dispose();
  });

  it('lists missing and extra tensors, all at once', async () => {
    const tensors = spec.filter((s) => s.name !== 'blocks.2.norm.running_var' && s.name !== 'stem.1.weight');
    const renamed = [...tensors, { name: 'blocks.99.norm.weight', shape: [4], counter: false }];
    const bytes = timmCheckpoint(renamed).bytes;
    await expectRefused(bytes, "2 tensors missing ('stem.1.weight', 'blocks.2.norm.running_var'); 1 extra tensor the model has no place for ('blocks.99.norm.weight')");
  });

  it('refuses a non-float weight, a NaN, and the classic Keras graph', async () => {
    const ints = float32File(spec, (name) => (name === 'stem.0.bn.bias' ? { dtype: 'I64' } : {}));
    await expectRefused(ints, "1 tensor is not floating-point ('stem.0.bn.bias' (I64))", { skipMismatch: true });
    const nan = float32File(spec, (name) => (name === 'blocks.7.stack.conv3.conv_pw.weight' ? { first: NaN } : {}));
    await expectRefused(nan, "tensor 'blocks.7.stack.conv3.conv_pw.weight' holds NaN at index 0; pass allowNonFinite: true", { skipMismatch: true });
    const keras = createXception({ inputShape: [71, 71, 3] });
    await expect(loadTimmWeights(keras, file.bytes)).rejects.toThrow("is not an aligned Xception (xception41, xception65, xception71, xception41p, xception65p)");
    keras.dispose();
  });
});
