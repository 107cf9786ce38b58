import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, XceptionConfigError, type DownloadProgress } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';
import { writeKerasWeights } from '../helpers/keras-fixtures.js';

// download.onProgress against a server on 127.0.0.1 that sends the weight file in 64 KiB pieces.

const SMALL = { includeTop: false, middleFlowRepeats: 0, inputShape: [71, 71, 3] as [number, number, number] };
const PIECE = 64 * 1024;

let server: LoopbackServer;
let fixture: Uint8Array;
let md5: string;
let root: string;
let requests = 0;

beforeAll(async () => {
  await useBackend('cpu');
  const source = createXception(SMALL);
  fixture = await writeKerasWeights(source, 'keras2');
  source.dispose();
  md5 = createHash('md5').update(fixture).digest('hex');
  server = await serveOnLoopback((request, response) => {
    requests++;
    const chunked = request.url?.startsWith('/chunked') ?? false;
    response.writeHead(200, chunked ? {} : { 'content-length': fixture.length });
    for (let at = 0; at < fixture.length; at += PIECE) response.write(fixture.subarray(at, at + PIECE));
    response.end();
  });
  root = mkdtempSync(join(tmpdir(), 'xception-ts-progress-'));
}, 120_000);

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('download.onProgress', () => {
  it('reports rising byte counts up to the file size, then done; a cached load reports nothing', async () => {
    const cache = join(root, 'cache');
    const seen: DownloadProgress[] = [];
    const url = `${server.base}/m/weights.h5`;
    const options = { ...SMALL, weights: { url, md5 }, weightsCacheDir: cache, download: { onProgress: (p: DownloadProgress) => seen.push(p) } };
    (await createXception(options)).dispose();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((p) => p.url === url && p.totalBytes === fixture.length)).toBe(true);
    const counts = seen.map((p) => p.receivedBytes);
    expect(counts.every((c, i) => i === 0 || c >= counts[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toEqual({ url, receivedBytes: fixture.length, totalBytes: fixture.length, done: true });
    expect(seen.filter((p) => p.done)).toHaveLength(1);

    seen.length = 0;
    const before = requests;
    (await createXception(options)).dispose();
    expect(requests).toBe(before);
    expect(seen).toEqual([]);
  });

  it('gives totalBytes null when the server sends no Content-Length', async () => {
    const seen: DownloadProgress[] = [];
    const url = `${server.base}/chunked/weights.h5`;
    (await createXception({ ...SMALL, weights: url, download: { onProgress: (p) => seen.push(p) } })).dispose();
    expect(seen.every((p) => p.totalBytes === null)).toBe(true);
    expect(seen.at(-1)).toEqual({ url, receivedBytes: fixture.length, totalBytes: null, done: true });
  });

  it('an error thrown by onProgress ends the download as it is: nothing cached, no tensor left', async () => {
    const cache = join(root, 'refused');
    const stop = new Error('user cancelled');
    const before = tf.memory().numTensors;
    const error = await createXception({
      ...SMALL,
      weights: { url: `${server.base}/m/refused.h5`, md5 },
      weightsCacheDir: cache,
      download: { onProgress: ({ receivedBytes }) => { if (receivedBytes > PIECE) throw stop; } },
    }).catch((e: unknown) => e);
    expect(error).toBe(stop);
    expect(tf.memory().numTensors).toBe(before);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]); // no entry, no partial file
  });

  it('a non-function onProgress is an XceptionConfigError before any request', async () => {
    const before = requests;
    const error = await createXception({ ...SMALL, weights: `${server.base}/m/x.h5`, download: { onProgress: 'yes' as never } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionConfigError);
    expect((error as Error).message).toBe('download.onProgress must be a function; got string.');
    expect(requests).toBe(before);
  });
});
