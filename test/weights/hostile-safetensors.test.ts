import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, loadTimmWeights, XceptionWeightsError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { rawSafetensors } from '../helpers/safetensors-writer.js';

// Files that lie: each is refused with an XceptionWeightsError that says what
// is wrong, before any value is read, and the model is left as it was.
let model: tf.LayersModel;
beforeAll(async () => {
  await useBackend('cpu');
  model = createXception({ preset: 'xception41', includeTop: false, inputShape: [32, 32, 3] });
});
afterAll(() => model.dispose());

const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const header = (tensors: Record<string, unknown>) => JSON.stringify(tensors);
const PREFIX = 'the weight file is not a valid safetensors file: ';

const CASES: [string, Uint8Array, string][] = [
  ['shorter than the length field', new Uint8Array(4), 'it has 4 bytes, fewer than the 8 of the header length.'],
  ['a header length of 2^40', rawSafetensors('{}', new Uint8Array(0), 2n ** 40n), 'its header length 1099511627776 is above the 100000000 bytes allowed.'],
  ['a header length past the end', rawSafetensors('{}', new Uint8Array(0), 1000n), "its header length 1000 does not fit in the file's 16 bytes."],
  ['a header that is not JSON', rawSafetensors('{"a": nope}'), 'its header is not UTF-8 JSON ('],
  ['a header that is not UTF-8', (() => { const f = rawSafetensors('{"a":1}  '); f[10] = 0xff; return f; })(), 'its header is not UTF-8 JSON ('],
  ['a header that is a JSON array', rawSafetensors('[1, 2]'), 'its header is not UTF-8 JSON (it does not start with "{")'],
  ['an entry that is not an object', rawSafetensors(header({ a: 3 })), "tensor 'a' is not an object."],
  ['metadata that are not strings', rawSafetensors(header({ __metadata__: { n: 1 } })), '"__metadata__" is not a map of strings.'],
  ['an unknown dtype', rawSafetensors(header({ a: entry('F8_E5M2', [4], [0, 4]) }), new Uint8Array(4)), `tensor 'a' has dtype "F8_E5M2"; known dtypes are F64, F32, F16, BF16, I64`],
  ['a negative dimension', rawSafetensors(header({ a: entry('F32', [-1], [0, 4]) }), new Uint8Array(4)), "tensor 'a' has shape [-1]; a shape is a list of at most 8 non-negative integers."],
  ['a 4e9-element shape', rawSafetensors(header({ a: entry('F32', [65536, 65536], [0, 17179869184]) }), new Uint8Array(8)), "tensor 'a' has shape [65536, 65536], more elements than the file's 8 data bytes hold."],
  ['fractional offsets', rawSafetensors(header({ a: entry('F32', [1], [0.5, 4.5]) }), new Uint8Array(8)), "tensor 'a' has data_offsets [0.5,4.5]; they must be two non-negative integers [begin, end]."],
  ['offsets past the data', rawSafetensors(header({ a: entry('F32', [2], [0, 8]) }), new Uint8Array(4)), "tensor 'a' has data_offsets [0, 8], outside the 4 data bytes."],
  ['offsets that disagree with the shape', rawSafetensors(header({ a: entry('F32', [3], [0, 8]) }), new Uint8Array(8)), "tensor 'a' (F32, shape [3]) needs 12 bytes but its data_offsets [0, 8] span 8."],
  ['overlapping tensors', rawSafetensors(header({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [4, 12]) }), new Uint8Array(12)), "tensor 'b' (bytes 4–12) overlaps another."],
  ['a gap between tensors', rawSafetensors(header({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }), new Uint8Array(12)), 'bytes 4–8 of the data belong to no tensor.'],
  ['trailing bytes', rawSafetensors(header({ a: entry('F32', [2], [0, 8]) }), new Uint8Array(16)), 'its last 8 bytes belong to no tensor.'],
];

describe('loadTimmWeights refuses hostile safetensors', () => {
  it.each(CASES)('%s', async (_label, bytes, message) => {
    const before = model.getLayer('block4_sepconv3_depthwise').getWeights()[0]!.dataSync().slice();
    const tensors = tf.memory().numTensors;
    const promise = loadTimmWeights(model, bytes);
    await expect(promise).rejects.toThrow(XceptionWeightsError);
    await expect(promise).rejects.toThrow(PREFIX + message);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(model.getLayer('block4_sepconv3_depthwise').getWeights()[0]!.dataSync()).toEqual(before);
  });

  it('a well-formed file with nothing the model needs lists what is missing', async () => {
    const bytes = rawSafetensors(header({ a: entry('F32', [1], [0, 4]) }), new Uint8Array(4));
    await expect(loadTimmWeights(model, bytes)).rejects.toThrow(
      /the weight file does not fit model 'xception' \(aligned Xception, \d+ weights\): \d+ tensors missing \('stem\.0\.conv\.weight', .*, … and \d+ more\); 1 extra tensor the model has no place for \('a'\)\. Nothing was loaded\./,
    );
  });

  it('a path that does not exist is an XceptionWeightsError naming it', async () => {
    await expect(loadTimmWeights(model, '/nonexistent/model.safetensors')).rejects.toThrow('cannot read the weight file /nonexistent/model.safetensors');
  });
});
