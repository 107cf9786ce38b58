// Issue 21, row 16: loadKerasModel, inspectKerasFile and loadTimmWeights take
// URLs, so they take download limits too (they used to refuse
// `{ download: … }` as an unknown option and fetch with the defaults only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  createXception,
  inspectKerasFile,
  loadKerasModel,
  loadTimmWeights,
  XceptionConfigError,
  XceptionDownloadError,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { kerasArchive, tinyConfig, tinyDenseModel, writeGzipWeights } from '../helpers/hostile-keras-fixtures.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';

let server: LoopbackServer;
let archive: Uint8Array;
let weights: number[][];

beforeAll(async () => {
  await useBackend('cpu');
  const model = tinyDenseModel();
  archive = kerasArchive(tinyConfig(model), await writeGzipWeights(model));
  weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  server = await serveOnLoopback((request, response) => {
    if (request.url === '/hang') return; // never answers
    response.writeHead(200, { 'content-length': archive.length }).end(archive);
  });
});

afterAll(() => server.close());

/** `call` rejects with XceptionDownloadError naming `url` and matching `message`. */
async function expectDownloadError(call: () => Promise<unknown>, url: string, message: RegExp) {
  const error = await call().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(XceptionDownloadError);
  expect((error as XceptionDownloadError).url).toBe(url);
  expect((error as Error).message).toMatch(message);
}

describe('download options on every entry point that takes a URL', () => {
  it('timeoutMs: a server that never answers fails after 300 ms, not 30 s', async () => {
    const url = `${server.base}/hang`;
    const started = performance.now();
    await expectDownloadError(() => loadKerasModel(url, { download: { timeoutMs: 300 } }), url, /no response within 300 ms \(download\.timeoutMs\)/);
    await expectDownloadError(() => inspectKerasFile(url, { download: { timeoutMs: 300 } }), url, /no response within 300 ms/);
    const model = createXception({ preset: 'tiny', inputShape: [32, 32, 3], numClasses: 2 });
    await expectDownloadError(() => loadTimmWeights(model, url, { download: { timeoutMs: 300 } }), url, /no response within 300 ms/);
    model.dispose();
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('maxBytes and signal apply; within them the file loads as written', async () => {
    const url = `${server.base}/tiny.keras`;
    await expectDownloadError(() => loadKerasModel(url, { download: { maxBytes: 100 } }), url,
      new RegExp(`Content-Length of ${archive.length} bytes is above download\\.maxBytes \\(100\\)`));
    const controller = new AbortController();
    controller.abort();
    await expectDownloadError(() => inspectKerasFile(url, { download: { signal: controller.signal } }), url, /aborted by options\.signal before it started/);
    const loaded = await loadKerasModel(url, { download: { maxBytes: archive.length } });
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights);
    loaded.dispose();
    expect((await inspectKerasFile(url, { download: { timeoutMs: 5000 } })).parameters).toBe(23);
  });

  it('bad download options are refused before anything is fetched', async () => {
    await expect(loadKerasModel(`${server.base}/hang`, { download: { timeoutMs: -1 } })).rejects.toThrow(XceptionConfigError);
    await expect(inspectKerasFile(`${server.base}/hang`, { download: { retries: 3 } as never })).rejects.toThrow(/Unknown download option 'retries'/);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    await expect(loadTimmWeights(model, `${server.base}/hang`, { download: 5 } as never)).rejects.toThrow(/download options must be an object; got number/);
    model.dispose();
  });
});
