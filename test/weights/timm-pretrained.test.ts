import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, PRETRAINED_CONFIGS, XceptionConfigError, XceptionDownloadError, XceptionWeightsError, type PretrainedXceptionOptions } from '../../src/index.js';
import { downloadTimmCheckpoint } from '../../src/weights/download-timm-checkpoint.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';
import { widenToFloat32 } from '../helpers/safetensors-writer.js';
import { TIMM_REFERENCE_DIR, timmBytes, timmFloat32 } from '../helpers/timm-reference.js';

// createXception({ preset, weights: 'imagenet' }) for a timm preset, against an
// HTTP server on 127.0.0.1 that serves the shared (seeded) xception41
// checkpoint widened to float32, as the hub stores it (108 MB), at
// <base>/xception41.tf_in1k/resolve/main/model.safetensors.
const PATH = '/xception41.tf_in1k/resolve/main/model.safetensors';
let server: LoopbackServer;
let served: Uint8Array;
let float16: Uint8Array;
let checkpoint: Uint8Array;
let requests: string[] = [];
let cacheDir: string;

beforeAll(async () => {
  await useBackend('wasm');
  if (!TIMM_REFERENCE_DIR) return;
  float16 = timmBytes('xception41.safetensors');
  checkpoint = widenToFloat32(float16);
  served = checkpoint;
  server = await serveOnLoopback((request, response) => {
    requests.push(request.url ?? '');
    // connection: close — a kept-alive socket can be closed by the server while a model builds (a reset, not a 404).
    if (request.url === PATH) response.writeHead(200, { 'content-type': 'application/octet-stream', connection: 'close' }).end(served);
    else response.writeHead(404, { connection: 'close' }).end();
  });
  cacheDir = mkdtempSync(join(tmpdir(), 'xception-ts-timm-cache-'));
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

describe.skipIf(!TIMM_REFERENCE_DIR)("createXception({ preset: 'xception41', weights: 'imagenet' })", () => {
  it("downloads timm's checkpoint from the base URL, checks it, caches it, and gives timm's logits", async () => {
    requests = [];
    const options: PretrainedXceptionOptions = {
      preset: 'xception41', weights: 'imagenet', weightsBaseUrl: `${server.base}/`, weightsCacheDir: cacheDir,
      inputShape: [289, 289, 3], classifierActivation: 'linear',
    };
    const model = await createXception(options);
    expect(checkpoint.byteLength).toBe(108_392_912); // the size of timm's float32 xception41 state dict with this header
    expect(requests).toEqual([PATH]);
    expect(readdirSync(cacheDir)).toEqual(['timm-xception41.tf_in1k-model.safetensors']);
    const logits = tf.tidy(() => (model.predict(tf.tensor4d(timmFloat32('input_289_nhwc.f32'), [1, 289, 289, 3])) as tf.Tensor).dataSync());
    const theirs = timmFloat32('xception41.os32.289.logits.f32');
    const worst = Math.max(...Array.from(theirs, (v, i) => Math.abs(v - logits[i]!)));
    expect(worst).toBeLessThanOrEqual(1e-4 * 34.70417785644531);
    model.dispose();

    const again = await createXception({ preset: 'xception41', weights: 'imagenet', weightsBaseUrl: server.base, weightsCacheDir: cacheDir, includeTop: false, inputShape: [64, 64, 3] });
    expect(requests).toEqual([PATH]); // from the cache
    again.dispose();
  }, 90_000);

  it('refuses a file of another size (the float16 one) and a truncated one, caching neither, leaking nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xception-ts-timm-bad-'));
    try {
      for (const [bytes, message] of [
        [float16, `holds ${float16.byteLength - 8 - Number(new DataView(float16.buffer).getBigUint64(0, true))} bytes of tensors, not the ${4 * 27_084_872 + 8 * 84} or ${4 * 27_084_872} of this architecture's float32 checkpoint`], // 27,084,872 float32 (+ 84 int64 counters)
        [checkpoint.subarray(0, 1_000_000), 'is not a valid safetensors file'],
      ] as const) {
        served = bytes;
        const before = tf.memory().numTensors;
        const promise = createXception({ preset: 'xception41', weights: 'imagenet', weightsBaseUrl: server.base, weightsCacheDir: dir, includeTop: false, inputShape: [64, 64, 3] });
        await expect(promise).rejects.toThrow(XceptionWeightsError);
        await expect(promise).rejects.toThrow(message);
        await expect(promise).rejects.toThrow('refusing a corrupt or different file.');
        expect(tf.memory().numTensors).toBe(before);
        expect(readdirSync(dir)).toEqual([]);
      }
    } finally {
      served = checkpoint;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('replaces a corrupt cached file with a fresh download', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xception-ts-timm-stale-'));
    try {
      const cached = join(dir, 'timm-xception41.tf_in1k-model.safetensors');
      writeFileSync(cached, checkpoint.subarray(0, 4096));
      requests = [];
      const model = await createXception({ preset: 'xception41', weights: 'imagenet', weightsBaseUrl: server.base, weightsCacheDir: dir, includeTop: false, inputShape: [64, 64, 3] });
      expect(requests).toEqual([PATH]);
      expect(readFileSync(cached).byteLength).toBe(checkpoint.byteLength);
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  const noCache = { cacheDir: false as const, warn: () => {} };
  it('checks a SHA-256 where one is given: the right one passes, another is refused', async () => {
    const sha256 = createHash('sha256').update(checkpoint).digest('hex');
    const expected = { url: `${server.base}${PATH}`, tag: 'xception41.tf_in1k', sha256, dataBytes: [] };
    expect((await downloadTimmCheckpoint(expected, noCache)).byteLength).toBe(checkpoint.byteLength);
    const wrong = sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await expect(downloadTimmCheckpoint({ ...expected, sha256: wrong }, noCache)).rejects.toThrow(
      `has SHA-256 ${sha256}, not the published ${wrong}: refusing a corrupt or different file.`,
    );
    await expect(downloadTimmCheckpoint({ ...expected, sha256: 'abc' }, noCache)).rejects.toThrow('sha256 must be 64 hex digits; got "abc".');
  }, 60_000);

  it('a missing file is an XceptionDownloadError naming the URL', async () => {
    const promise = createXception({ preset: 'xception65', weights: 'imagenet', weightsBaseUrl: server.base, weightsCacheDir: false, includeTop: false, inputShape: [64, 64, 3] });
    await expect(promise).rejects.toThrow(XceptionDownloadError);
    await expect(promise).rejects.toThrow(`${server.base}/xception65.ra3_in1k/resolve/main/model.safetensors: HTTP 404`);
  }, 60_000);
});

describe.skipIf(!TIMM_REFERENCE_DIR)('createXception({ preset, weights: <a safetensors file> })', () => {
  it('an aligned preset takes a timm checkpoint by path, as loadTimmWeights; a bad one disposes the model', async () => {
    const path = join(TIMM_REFERENCE_DIR!, 'xception41p.safetensors');
    const model = await createXception({ preset: 'xception41p', weights: path, includeTop: false, inputShape: [64, 64, 3] });
    // stem.1.weight (OIHW) → block1_conv2 (HWIO): element [o=5, i=7, h=1, w=2] sits at [1, 2, 7, 5].
    const bytes = float16ViewOf('xception41p.safetensors', 'stem.1.weight');
    const theirs = bytes.get(5 * 32 * 9 + 7 * 9 + 1 * 3 + 2);
    const ours = tf.tidy(() => model.getLayer('block1_conv2').getWeights()[0]!.slice([1, 2, 7, 5], [1, 1, 1, 1]).dataSync()[0]!);
    expect(ours).toBeCloseTo(theirs, 6);
    model.dispose();
    const before = tf.memory().numTensors;
    await expect(createXception({ preset: 'xception65', weights: path, includeTop: false, inputShape: [64, 64, 3] })).rejects.toThrow(XceptionWeightsError);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});

/** Reads one float16 tensor of a shared checkpoint by hand (header JSON + offsets), as numbers. */
function float16ViewOf(file: string, name: string): { get(i: number): number } {
  const b = timmBytes(file);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const entry = (JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>)[name]!;
  const start = 8 + n + entry.data_offsets[0];
  return {
    get(i: number) {
      const h = view.getUint16(start + 2 * i, true);
      const e = (h >> 10) & 31;
      const m = h & 1023;
      return (h >> 15 ? -1 : 1) * (e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25));
    },
  };
}

describe("weights: 'imagenet' for the timm presets", () => {
  it.each([
    [{ preset: 'xception65', numClasses: 10 }, "weights: 'imagenet' (xception65.ra3_in1k) does not fit: with the top they need numClasses 1000, not 10"],
    [{ preset: 'xception41p', inputShape: [299, 299, 1] }, "weights: 'imagenet' (xception41p.ra3_in1k) does not fit: they need 3 input channels, not 1."],
  ])('refuses %j before downloading anything', async (options, message) => {
    const promise = createXception({ ...(options as object), weights: 'imagenet', weightsBaseUrl: 'http://127.0.0.1:9/' });
    await expect(promise).rejects.toThrow(XceptionConfigError);
    await expect(promise).rejects.toThrow(message);
  });

  it('names a tag, an eval transform and a top-1 for every preset but postact', () => {
    expect(Object.keys(PRETRAINED_CONFIGS)).toEqual(['keras', 'xception41', 'xception65', 'xception71', 'xception41p', 'xception65p']);
    expect(Object.fromEntries(Object.entries(PRETRAINED_CONFIGS).map(([p, c]) => [p, [c!.tag, c!.top1, c!.cropPct]]))).toEqual({
      keras: ['legacy_xception.tf_in1k', 79.06, 0.8975],
      xception41: ['xception41.tf_in1k', 78.55, 0.903],
      xception65: ['xception65.ra3_in1k', 83.19, 0.94],
      xception71: ['xception71.tf_in1k', 79.92, 0.903],
      xception41p: ['xception41p.ra3_in1k', 81.98, 0.94],
      xception65p: ['xception65p.ra3_in1k', 83.16, 0.94],
    });
    for (const c of Object.values(PRETRAINED_CONFIGS)) expect(c).toMatchObject({ interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(Object.entries(PRETRAINED_CONFIGS).filter(([, c]) => c!.sha256 !== null).map(([p]) => p)).toEqual(['xception41p']);
  });
});
