import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, loadKerasWeights } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';
import { writeKerasWeights } from '../helpers/keras-fixtures.js';

// Debian's Chromium (installed by .ci/run), driven by playwright-core.
const CHROMIUM = '/usr/bin/chromium';
let server: LoopbackServer;
let browser: Browser;
let base: string;
let fixture: Uint8Array;
const files = new Map<string, { type: string; body: string | Uint8Array }>();

beforeAll(async () => {
  await useBackend('cpu');
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  const source = createXception({ inputShape: [71, 71, 3], numClasses: 10, middleFlowRepeats: 1 });
  fixture = await writeKerasWeights(source, 'keras1');
  source.dispose();
  const bundle = await build({
    entryPoints: [new URL('./weights-page.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['fs/promises', 'crypto', 'os', 'path', 'node:*'],
    logLevel: 'silent',
  });
  files.set('/page.js', { type: 'text/javascript', body: bundle.outputFiles[0]!.text });
  files.set('/', { type: 'text/html', body: '<!doctype html><title>xception-ts weights</title><script type="module" src="/page.js"></script>' });
  files.set('/weights.h5', { type: 'application/octet-stream', body: fixture });
  files.set('/favicon.ico', { type: 'image/x-icon', body: new Uint8Array(0) });
  server = await serveOnLoopback((request, response) => {
    const file = files.get(request.url ?? '');
    if (file) response.writeHead(200, { 'content-type': file.type }).end(file.body);
    else response.writeHead(404).end();
  });
  base = server.base;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('loadKerasWeights in Chromium', () => {
  it('loads an official-layout file from a URL and predicts what Node predicts', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(base);
    await page.waitForFunction(() => typeof window.runWeightsCheck === 'function');
    const input = Array.from(tf.randomUniform([71 * 71 * 3], -1, 1, 'float32', 4).dataSync());
    const inBrowser = (await page.evaluate(([url, values]) => window.runWeightsCheck(url as string, values as number[]), [`${base}/weights.h5`, input])) as {
      backend: string; result: unknown; predictions: number[]; brokenIsTyped: boolean; brokenMessage: string;
    };

    const model = createXception({ inputShape: [71, 71, 3], numClasses: 10, middleFlowRepeats: 1 });
    await loadKerasWeights(model, fixture);
    const inNode = Array.from((model.predict(tf.tensor(input, [1, 71, 71, 3])) as tf.Tensor).dataSync());
    model.dispose();

    expect(inBrowser.backend).toBe('cpu');
    expect(inBrowser.result).toEqual({ layout: 'keras2', layersLoaded: 39, valuesLoaded: 9_553_562 });
    expect(inBrowser.predictions.length).toBe(10);
    inBrowser.predictions.forEach((p, i) => expect(Math.abs(p - inNode[i]!)).toBeLessThan(1e-6));
    expect(inBrowser.brokenIsTyped).toBe(true);
    expect(inBrowser.brokenMessage).toContain('is not an HDF5 file');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
