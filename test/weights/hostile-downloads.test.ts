import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  createXception,
  loadKerasWeights,
  XceptionConfigError,
  XceptionDownloadError,
  XceptionWeightsError,
  type PretrainedXceptionOptions,
} from '../../src/index.js';
import { cacheFileName } from '../../src/weights/cache-file-name.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';
import { writeKerasWeights } from '../helpers/keras-fixtures.js';

// Issue 14, part A: every finding about downloads and the weights cache,
// reproduced against an HTTP server on 127.0.0.1 that this file starts and
// stops. Timeouts are 200 ms, and every loop in a handler is bounded.

/** The smallest Xception: no top, no middle units (~8 M parameters). */
const SMALL = { includeTop: false, middleFlowRepeats: 0, inputShape: [71, 71, 3] as [number, number, number] };

/** Expects `promise` to reject with exactly this class and message. */
async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, message: string) {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}

let server: LoopbackServer;
let fixture: Uint8Array;
let md5: string;
let requests: string[] = [];
let root: string;
/** Behaviours by path prefix; the rest serves the fixture. */
const routes = new Map<string, (response: ServerResponse) => void>();
/** Bytes written by the endless and trickling handlers (they must stop when the client does). */
let sent = 0;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  await useBackend('cpu');
  const source = createXception(SMALL);
  fixture = await writeKerasWeights(source, 'keras2');
  source.dispose();
  md5 = createHash('md5').update(fixture).digest('hex');
  server = await serveOnLoopback((request, response) => {
    const url = request.url ?? '';
    requests.push(url);
    const route = [...routes].find(([prefix]) => url.startsWith(prefix));
    if (route) route[1](response);
    else response.writeHead(200, { 'content-length': fixture.length }).end(fixture);
  });
  root = mkdtempSync(join(tmpdir(), 'xception-ts-hostile-'));
}, 120_000);

afterEach(() => {
  for (const timer of timers) clearInterval(timer);
  timers.clear();
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh folder under the test's root. */
let folders = 0;
const folder = (name = 'cache') => {
  const dir = join(root, `${folders++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** Loads the small model's weights, collecting warnings; returns the model's first kernel checksum and the warnings. */
async function load(url: string, options: Partial<PretrainedXceptionOptions> = {}) {
  const warnings: string[] = [];
  const model = await createXception({ ...SMALL, weights: { url, md5 }, onWarning: (w) => warnings.push(w), ...options });
  const kernel = model.getLayer('block1_conv1').getWeights()[0]!.dataSync();
  model.dispose();
  return { kernel: kernel.length, warnings };
}

/** Every file under `dir`, as paths relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** Responds at a steady trickle (one byte every 20 ms, at most 1000) with a large Content-Length. */
function trickle(response: ServerResponse) {
  response.writeHead(200, { 'content-length': 1_000_000 });
  let n = 0;
  const timer = setInterval(() => {
    if (response.destroyed || n++ > 1000) return clearInterval(timer);
    response.write(Buffer.alloc(1));
    sent++;
  }, 20);
  timers.add(timer);
}

describe('the weights cache (finding 1: path traversal)', () => {
  it('keeps a URL whose name is ..%2F…%2F.profile inside the cache folder, and serves it from there', async () => {
    const cache = join(folder('traversal'), 'a', 'b', 'c', 'd');
    requests = [];
    const url = `${server.base}/m/..%2F..%2F..%2F..%2F.profile`;
    expect((await load(url, { weightsCacheDir: cache })).warnings).toEqual([]);
    expect(tree(cache)).toEqual([`${md5}-_2F._2F._2F._2F.profile`]);
    // Nothing landed above the cache folder, at any level.
    expect(tree(join(cache, '..', '..', '..', '..')).filter((f) => f.endsWith('.profile'))).toEqual([
      join('a', 'b', 'c', 'd', `${md5}-_2F._2F._2F._2F.profile`),
    ]);
    await load(url, { weightsCacheDir: cache });
    expect(requests).toEqual(['/m/..%2F..%2F..%2F..%2F.profile']); // the second load came from the (safe) entry
  });

  it('loads a URL with a malformed escape (no URIError) and caches it under a sanitised name', async () => {
    const cache = folder('escape');
    const { warnings } = await load(`${server.base}/bad%E0%A4%A.h5`, { weightsCacheDir: cache });
    expect(warnings).toEqual([]);
    expect(tree(cache)).toEqual([`${md5}-bad_E0_A4_A.h5`]);
    // %00 decoded to a NUL made fs throw a raw TypeError.
    expect((await load(`${server.base}/w%00.h5`, { weightsCacheDir: cache })).warnings).toEqual([]);
    expect(tree(cache)).toEqual([`${md5}-bad_E0_A4_A.h5`, `${md5}-w_00.h5`]);
  });

  it.each([
    ['http://h/m/..%2F..%2F.profile', 'x-_2F._2F.profile'],
    ['http://h/a/..', 'x-weights.h5'],
    ['http://h/', 'x-weights.h5'],
    ['http://h/w%00.h5', 'x-w_00.h5'],
    ['http://h/w\\..\\..\\x.h5?v=1#top', 'x-w_._._x.h5'],
    ['http://h/caf%C3%A9 weights.h5', 'x-caf_C3_A9_weights.h5'],
  ])('cacheFileName(%j) is %j: one segment of [A-Za-z0-9._-], no leading dot', (url, name) => {
    expect(cacheFileName(url, 'x')).toBe(name);
  });

  it('bounds the name of a 300-character file (no ENAMETOOLONG) and still caches it', async () => {
    const cache = folder('long');
    const long = `${'w'.repeat(300)}.h5`;
    expect((await load(`${server.base}/${long}`, { weightsCacheDir: cache })).warnings).toEqual([]);
    expect(tree(cache)).toEqual([`${md5}-${'w'.repeat(100)}`]);
  });
});

describe('concurrent loads (finding 2)', () => {
  it('four parallel loads of one URL into one cache all succeed, leaving one entry and no partial file', async () => {
    const cache = folder('race');
    requests = [];
    const results = await Promise.all([0, 1, 2, 3].map(() => load(`${server.base}/race/xception.h5`, { weightsCacheDir: cache })));
    expect(results.map((r) => r.warnings)).toEqual([[], [], [], []]);
    expect(results.map((r) => r.kernel)).toEqual([864, 864, 864, 864]); // 3·3·3·32
    expect(tree(cache)).toEqual([`${md5}-xception.h5`]);
  });
});

describe('a cache that cannot be used (finding 3): the verified download loads anyway, with one warning', () => {
  const cases: [string, () => string, RegExp][] = [
    ['under a file (ENOTDIR)', () => {
      const file = join(folder('notdir'), 'file');
      writeFileSync(file, 'x');
      return join(file, 'cache');
    }, /^xception-ts: cannot use the weights cache \(.*file\/cache\/[0-9a-f]{32}-xception\.h5\): a part of the path is a file, not a folder \(ENOTDIR\); the download is loaded without caching\.$/],
    ['whose entry is a folder (EISDIR)', () => {
      const cache = folder('isdir');
      mkdirSync(join(cache, `${md5}-xception.h5`));
      return cache;
    }, /^xception-ts: cannot use the weights cache \(.*xception\.h5\): it is a folder, not a file \(EISDIR\); the download is loaded without caching\.$/],
    ['with a NUL in its path', () => `${root}/nul\0cache`, /^xception-ts: cannot use the weights cache \(.*nul\0cache.*\): the path is not valid \(it holds a NUL character\?\) \(ERR_INVALID_ARG_VALUE\); the download/],
  ];
  it.each(cases)('a cache %s', async (_name, makeDir, warning) => {
    const { kernel, warnings } = await load(`${server.base}/w/xception.h5`, { weightsCacheDir: makeDir() });
    expect(kernel).toBe(864);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(warning);
  });

  // As root (as in some containers) every folder is writable: the case needs an ordinary user.
  it.skipIf(process.getuid?.() === 0)('a read-only cache (EACCES)', async () => {
    const cache = folder('readonly');
    chmodSync(cache, 0o555);
    try {
      const { warnings } = await load(`${server.base}/w/xception.h5`, { weightsCacheDir: cache });
      expect(warnings).toEqual([expect.stringMatching(/: permission denied \(EACCES\); the download is loaded without caching\.$/)]);
    } finally {
      chmodSync(cache, 0o755);
    }
  });

  it('an unwritable HOME (the default cache under a file) warns; an empty XCEPTION_TS_CACHE_DIR means the default', async () => {
    const saved = { HOME: process.env['HOME'], dir: process.env['XCEPTION_TS_CACHE_DIR'] };
    try {
      const home = join(folder('home'), 'not-a-folder');
      writeFileSync(home, 'x');
      process.env['HOME'] = home;
      process.env['XCEPTION_TS_CACHE_DIR'] = '';
      const { warnings } = await load(`${server.base}/w/xception.h5`);
      expect(warnings).toEqual([expect.stringMatching(/not-a-folder\/\.cache\/xception-ts\/[0-9a-f]{32}-xception\.h5\): a part of the path is a file, not a folder \(ENOTDIR\)/)]);

      const goodHome = folder('good-home');
      process.env['HOME'] = goodHome;
      expect((await load(`${server.base}/w/xception.h5`)).warnings).toEqual([]);
      expect(tree(join(goodHome, '.cache', 'xception-ts'))).toEqual([`${md5}-xception.h5`]);
    } finally {
      for (const [key, value] of [['HOME', saved.HOME], ['XCEPTION_TS_CACHE_DIR', saved.dir]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it.each([
    [42, 'weightsCacheDir must be a folder path (a non-empty string) or false for no cache; got 42.'],
    ['', 'weightsCacheDir must be a folder path (a non-empty string) or false for no cache; got "".'],
    [true, 'weightsCacheDir must be a folder path (a non-empty string) or false for no cache; got true.'],
  ])('weightsCacheDir %j is an XceptionConfigError before any request', async (value, message) => {
    requests = [];
    await rejectsWith(load(`${server.base}/w/xception.h5`, { weightsCacheDir: value as never }), XceptionConfigError, message);
    expect(requests).toEqual([]);
  });

  it('a cached file that no longer matches its MD5 is downloaded again and replaced', async () => {
    const cache = folder('stale');
    writeFileSync(join(cache, `${md5}-xception.h5`), 'not the file');
    requests = [];
    expect((await load(`${server.base}/stale/xception.h5`, { weightsCacheDir: cache })).warnings).toEqual([]);
    expect(requests).toEqual(['/stale/xception.h5']);
    await load(`${server.base}/stale/xception.h5`, { weightsCacheDir: cache });
    expect(requests).toEqual(['/stale/xception.h5']);
  });
});

describe('timeouts, abort and size caps (finding 4)', () => {
  /** Runs `promise`, expecting an XceptionDownloadError for `path` whose message matches; returns the seconds it took. */
  async function refused(promise: Promise<unknown>, path: string, message: RegExp): Promise<number> {
    const start = performance.now();
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionDownloadError);
    expect((error as XceptionDownloadError).url).toBe(`${server.base}${path}`);
    expect((error as Error).message).toMatch(message);
    return (performance.now() - start) / 1000;
  }
  const noCache = { weightsCacheDir: false } as const;

  it('a server that never answers fails after timeoutMs, not after minutes', async () => {
    routes.set('/silent', () => {}); // never writes a byte
    const tensors = tf.memory().numTensors;
    const seconds = await refused(
      load(`${server.base}/silent/x.h5`, { ...noCache, download: { timeoutMs: 200 } }),
      '/silent/x.h5',
      new RegExp(`^cannot download ${server.base}/silent/x\\.h5: no response within 200 ms \\(download\\.timeoutMs\\)\\.$`),
    );
    expect(seconds).toBeLessThan(2);
    expect(tf.memory().numTensors).toBe(tensors); // nothing was built
  });

  it('a trickling body fails after stallTimeoutMs', async () => {
    routes.set('/trickle', trickle);
    sent = 0;
    const seconds = await refused(
      load(`${server.base}/trickle/x.h5`, { ...noCache, download: { stallTimeoutMs: 200 } }),
      '/trickle/x.h5',
      /: the download stalled: fewer than 65536 bytes arrived in 200 ms \(download\.stallTimeoutMs\), after \d+ bytes\.$/,
    );
    expect(seconds).toBeLessThan(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = sent;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sent).toBe(after); // the connection was closed: the server stopped writing
  });

  it('an endless body stops at maxBytes (streamed, with no Content-Length)', async () => {
    sent = 0;
    routes.set('/endless', (response) => {
      response.writeHead(200);
      const chunk = Buffer.alloc(65_536);
      const pump = () => {
        // Bounded: 64 MiB at most, and only while the client reads.
        while (!response.destroyed && sent < 64 * 2 ** 20 && response.write(chunk)) sent += chunk.length;
        if (!response.destroyed && sent < 64 * 2 ** 20) response.once('drain', pump);
      };
      pump();
    });
    await refused(
      load(`${server.base}/endless/x.h5`, { ...noCache, download: { maxBytes: 2 ** 20 } }),
      '/endless/x.h5',
      /: the body is larger than download\.maxBytes \(1048576\); stopped reading at \d+ bytes\.$/,
    );
    expect(sent).toBeLessThan(16 * 2 ** 20); // socket buffers aside, the download stopped near the cap
  });

  it('a compressed body is capped by its decoded size (a decompression bomb stops at maxBytes)', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 2 ** 20)); // 8 MiB of zeros, about 8 KB compressed
    expect(bomb.length).toBeLessThan(2 ** 20 / 4);
    routes.set('/bomb', (response) => response.writeHead(200, { 'content-encoding': 'gzip', 'content-length': bomb.length }).end(bomb));
    await refused(
      load(`${server.base}/bomb/x.h5`, { ...noCache, download: { maxBytes: 2 ** 20 } }),
      '/bomb/x.h5',
      /: the body is larger than download\.maxBytes \(1048576\); stopped reading at \d+ bytes\.$/,
    );
  });

  it("a Content-Length above the cap is refused before the body is read; 'imagenet' caps at 128 MiB by default", async () => {
    routes.set('/keras/', (response) => {
      response.writeHead(200, { 'content-length': 200 * 2 ** 20 });
      response.write(Buffer.alloc(1024)); // and nothing more
    });
    await refused(
      createXception({ weights: 'imagenet', weightsBaseUrl: `${server.base}/keras/`, weightsCacheDir: false }),
      '/keras/xception_weights_tf_dim_ordering_tf_kernels.h5',
      /: its Content-Length of 209715200 bytes is above download\.maxBytes \(134217728\)\.$/,
    );
    routes.set('/huge', (response) => {
      response.writeHead(200, { 'content-length': 2 ** 31 });
      response.write(Buffer.alloc(1024));
    });
    await refused(load(`${server.base}/huge/x.h5`, noCache), '/huge/x.h5', /Content-Length of 2147483648 bytes is above download\.maxBytes \(1073741824\)\.$/);
  });

  it('a body shorter than its Content-Length is an XceptionDownloadError, not TypeError: terminated', async () => {
    routes.set('/short', (response) => {
      response.writeHead(200, { 'content-length': 1000 });
      response.write(Buffer.alloc(500), () => response.destroy());
    });
    const message = /: the connection closed after 500 of the 1000 bytes its Content-Length declares\.$/;
    await refused(load(`${server.base}/short/x.h5`, noCache), '/short/x.h5', message);
    // The same through loadKerasWeights(model, url) (the unchecked URL path).
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    await refused(loadKerasWeights(model, `${server.base}/short/y.h5`), '/short/y.h5', message);
    model.dispose();
  });

  it('options.signal aborts a download in flight, and an aborted signal sends no request', async () => {
    routes.set('/slow', trickle);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const seconds = await refused(
      load(`${server.base}/slow/x.h5`, { ...noCache, download: { signal: controller.signal } }),
      '/slow/x.h5',
      /: aborted by options\.signal after \d+ bytes\.$/,
    );
    expect(seconds).toBeLessThan(2);
    requests = [];
    await refused(
      load(`${server.base}/slow/y.h5`, { ...noCache, download: { signal: controller.signal } }),
      '/slow/y.h5',
      /: aborted by options\.signal before it started\.$/,
    );
    expect(requests).toEqual([]);
  });

  it('a connection closed before any response is retried once (a stale keep-alive socket), then refused', async () => {
    let resets = 0;
    routes.set('/reset-once', (response) => {
      if (resets++ === 0) response.socket?.destroy();
      else response.writeHead(200, { 'content-length': fixture.length }).end(fixture);
    });
    requests = [];
    expect((await load(`${server.base}/reset-once/x.h5`, noCache)).kernel).toBe(864);
    expect(requests).toEqual(['/reset-once/x.h5', '/reset-once/x.h5']);
    routes.set('/reset', (response) => response.socket?.destroy());
    requests = [];
    await refused(load(`${server.base}/reset/x.h5`, noCache), '/reset/x.h5', /: fetch failed \((UND_ERR_SOCKET|ECONNRESET|other side closed)\)\.$/);
    expect(requests).toEqual(['/reset/x.h5', '/reset/x.h5']);
  });

  it('a refused connection and an HTTP error are XceptionDownloadErrors naming the URL', async () => {
    const closed = await serveOnLoopback(() => {});
    await closed.close();
    const error = await load(`${closed.base}/x.h5`, noCache).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionDownloadError);
    expect((error as Error).message).toBe(`cannot download ${closed.base}/x.h5: fetch failed (ECONNREFUSED).`);
    routes.set('/gone', (response) => response.writeHead(410).end());
    await refused(load(`${server.base}/gone/x.h5`, noCache), '/gone/x.h5', /: HTTP 410\.$/);
  });

  it.each([
    [{ timeoutMs: 0 }, 'download.timeoutMs must be a positive integer or Infinity; got 0.'],
    [{ stallTimeoutMs: '5s' }, 'download.stallTimeoutMs must be a positive integer or Infinity; got "5s".'],
    [{ maxBytes: -1 }, 'download.maxBytes must be a positive integer or Infinity; got -1.'],
    [{ signal: {} }, 'download.signal must be an AbortSignal; got object.'],
    [{ timeout: 5 }, "Unknown download option 'timeout'; valid options are 'timeoutMs', 'stallTimeoutMs', 'maxBytes', 'signal', 'onProgress'."],
  ])('download %j is an XceptionConfigError before any request', async (download, message) => {
    requests = [];
    await rejectsWith(load(`${server.base}/w/x.h5`, { ...noCache, download: download as never }), XceptionConfigError, message);
    expect(requests).toEqual([]);
    // Checked whatever the source, also where no download happens.
    await rejectsWith(createXception({ ...SMALL, weights: fixture, download: download as never }), XceptionConfigError, message);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    await rejectsWith(loadKerasWeights(model, fixture, { download: download as never }), XceptionConfigError, message);
    model.dispose();
  });
});

describe('argument errors of the weight entry points (finding 8)', () => {
  it('{ url } without md5 says that md5 is missing, before any request', async () => {
    requests = [];
    await rejectsWith(createXception({ ...SMALL, weights: { url: `${server.base}/w/x.h5` } as never }), XceptionConfigError,
      "weights { url, md5 } needs a url string and an md5 string (32 hex digits, the file's published MD5); got url string and md5 undefined. " +
        'To load a URL unchecked, pass the URL itself as weights.');
    expect(requests).toEqual([]);
  });

  it('an md5 that is not 32 hex digits is an XceptionConfigError before any request', async () => {
    requests = [];
    await rejectsWith(
      createXception({ ...SMALL, weights: { url: `${server.base}/w/x.h5`, md5: 'abc' } }),
      XceptionConfigError,
      'weights.md5 must be 32 hex digits; got "abc".',
    );
    expect(requests).toEqual([]);
  });

  it('loadKerasWeights(null, bytes) blames the model, not the file; byName "false" is refused, not taken as true', async () => {
    const bad = await loadKerasWeights(null as never, fixture).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(XceptionConfigError);
    expect((bad as Error).message).toBe('loadKerasWeights needs a tf.LayersModel (e.g. from createXception()) as its first argument; got null.');
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    await rejectsWith(loadKerasWeights(model, fixture, { byName: 'false' as never }), XceptionConfigError, 'byName must be true or false; got "false".');
    await rejectsWith(
      loadKerasWeights(model, fixture, { byname: true } as never),
      XceptionConfigError,
      "Unknown loadKerasWeights option 'byname'; valid options are 'byName', 'allowNonFinite', 'download', 'maxUncompressedBytes'.",
    );
    await rejectsWith(
      loadKerasWeights(model, { url: 'http://127.0.0.1:9/x.h5' } as never),
      XceptionConfigError,
      'weights { url: "http://127.0.0.1:9/x.h5" } needs md5 too: the file\'s MD5, 32 hex digits, which the download is checked ' +
        'against; to load a URL unchecked, pass the URL itself as weights.',
    );
    model.dispose();
  });

  it('weightsBaseUrl 42 is an XceptionConfigError (not a TypeError), and a file: URL object is read from disk', async () => {
    await rejectsWith(
      createXception({ weights: 'imagenet', includeTop: false, weightsBaseUrl: 42 as never }),
      XceptionConfigError,
      'weightsBaseUrl must be a non-empty URL string; got 42.',
    );
    const path = join(folder('file-url'), 'weights.h5');
    writeFileSync(path, fixture);
    const model = await createXception({ ...SMALL, weights: pathToFileURL(path) });
    expect(model.getLayer('block1_conv1').getWeights()[0]!.shape).toEqual([3, 3, 3, 32]);
    model.dispose();
  });

  it('a missing weight file is an XceptionWeightsError in words, not a raw ENOENT', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    const missing = join(root, 'missing.h5');
    await rejectsWith(loadKerasWeights(model, missing), XceptionWeightsError, `cannot read the weight file ${missing}: no such file or folder (ENOENT).`);
    model.dispose();
    expect(existsSync(missing)).toBe(false);
  });
});
