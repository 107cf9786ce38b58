import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, XceptionConfigError, XceptionWeightsError } from '../../src/index.js';
import { md5HexPortable } from '../../src/weights/md5.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';
import { writeKerasWeights } from '../helpers/keras-fixtures.js';

// The download path is real code, tested against an HTTP server on 127.0.0.1
// that serves a full-size (~88 MB) fixture in the official files' Keras 1.1
// layout and naming, written from random weights at test time.
let server: LoopbackServer;
let base: string;
let fixture: Uint8Array;
let fixtureMd5: string;
let requests: string[] = [];
let cacheDir: string;
let source: tf.LayersModel;

beforeAll(async () => {
  await useBackend('wasm');
  source = createXception({ inputShape: [71, 71, 3] }); // weights do not depend on the input size
  fixture = await writeKerasWeights(source, 'keras1');
  fixtureMd5 = createHash('md5').update(fixture).digest('hex');
  server = await serveOnLoopback((request, response) => {
    requests.push(request.url ?? '');
    if (request.url?.endsWith('.h5')) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(fixture);
    } else {
      response.writeHead(404).end();
    }
  });
  base = server.base;
  cacheDir = mkdtempSync(join(tmpdir(), 'xception-ts-cache-'));
}, 120_000);

afterAll(async () => {
  await server.close();
  rmSync(cacheDir, { recursive: true, force: true });
  source.dispose();
});

describe('createXception({ weights })', () => {
  it('downloads a checksummed file, loads it, caches it, and reuses the cache', async () => {
    requests = [];
    const weights = { url: `${base}/my/xception.h5`, md5: fixtureMd5 };
    const model = await createXception({ weights, weightsCacheDir: cacheDir });
    expect(fixture.length).toBeGreaterThan(85_000_000); // full size, like the official 88 MB file
    const a = model.getLayer('block14_sepconv2_bn').getWeights()[3]!.dataSync();
    expect(a).toEqual(source.getLayer('block14_sepconv2_bn').getWeights()[3]!.dataSync());
    expect(readdirSync(cacheDir)).toEqual([`${fixtureMd5}-xception.h5`]);
    model.dispose();

    const again = await createXception({ weights, weightsCacheDir: cacheDir });
    expect(requests).toEqual(['/my/xception.h5']); // the second model came from the cache
    again.dispose();
  }, 120_000);

  it("'imagenet' fetches the official file name from the base URL and refuses a wrong MD5", async () => {
    requests = [];
    const before = tf.memory().numTensors;
    const error = await createXception({ weights: 'imagenet', weightsBaseUrl: `${base}/keras/`, weightsCacheDir: cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionWeightsError);
    expect((error as Error).message).toBe(
      `the download of ${base}/keras/xception_weights_tf_dim_ordering_tf_kernels.h5 has MD5 ${fixtureMd5}, ` +
        `not the expected 0a58e3b7378bc2990ea3b43d5981f1f6 (${fixture.length} bytes): refusing a corrupt or different file.`,
    );
    expect(requests).toEqual(['/keras/xception_weights_tf_dim_ordering_tf_kernels.h5']);
    expect(readdirSync(cacheDir).some((f) => f.startsWith('0a58e3b7'))).toBe(false);
    expect(tf.memory().numTensors).toBe(before);

    requests = [];
    await createXception({ weights: 'imagenet', includeTop: false, weightsBaseUrl: `${base}/keras`, weightsCacheDir: false }).catch(() => {});
    expect(requests).toEqual(['/keras/xception_weights_tf_dim_ordering_tf_kernels_notop.h5']);
  }, 120_000);

  it('reports an HTTP error and a file that does not fit', async () => {
    await expect(createXception({ weights: { url: `${base}/missing`, md5: fixtureMd5 }, weightsCacheDir: false })).rejects.toThrow(
      `cannot download ${base}/missing: HTTP 404`,
    );
    const before = tf.memory().numTensors;
    await expect(createXception({ weights: fixture, includeTop: false })).rejects.toThrow(
      "the weight file has 81 layers with weights but the model 'xception' has 80 (one more: a file with the top, loaded into a model with includeTop: false?)",
    );
    expect(tf.memory().numTensors).toBe(before); // the model built for it was disposed
  }, 120_000);

  it.each([
    [{ preset: 'postact' }, "weights: 'imagenet' does not fit: 'postact' has no ImageNet weights; presets with weights: 'keras', 'xception41', 'xception65', 'xception71', 'xception41p', 'xception65p'."],
    [{ inputShape: [299, 299, 1] }, 'they need 3 input channels, not 1.'],
    [{ inputShape: [224, 224, 3] }, 'with the top they need inputShape [299, 299, 3], not [224, 224, 3] (or set includeTop: false).'],
    [{ numClasses: 10 }, 'with the top they need numClasses 1000, not 10'],
    [{ middleFlowRepeats: 4 }, "they need the 8 middle units of Keras' Xception, not 4."],
  ])("'imagenet' refuses %j before downloading anything", async (options, message) => {
    requests = [];
    const promise = createXception({ ...(options as object), weights: 'imagenet', weightsBaseUrl: base });
    await expect(promise).rejects.toThrow(XceptionConfigError);
    await expect(promise).rejects.toThrow(message);
    expect(requests).toEqual([]);
  });

  it('checks MD5 in pure JS exactly as Node does (the browser path)', () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 1000, 100_003]) {
      const data = new Uint8Array(size).map((_, i) => (i * 7919 + size) & 255);
      expect(md5HexPortable(data)).toBe(createHash('md5').update(data).digest('hex'));
    }
  });
});
