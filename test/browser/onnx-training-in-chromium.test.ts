import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';

// Training Xception in a browser tab: createOnnxTrainer with onnxruntime-web (wasm, one thread)
// in Debian's Chromium (installed by .ci/run), driven by playwright-core.
const CHROMIUM = '/usr/bin/chromium';
const SIZE = 32;
let server: LoopbackServer;
let browser: Browser;
const files = new Map<string, { type: string; body: string | Uint8Array }>();

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  const bundle = await build({
    entryPoints: [new URL('./onnx-training-page.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['fs/promises', 'crypto', 'os', 'path', 'node:*'],
    logLevel: 'silent',
  });
  files.set('/page.js', { type: 'text/javascript', body: bundle.outputFiles[0]!.text });
  files.set('/', { type: 'text/html', body: '<!doctype html><title>xception-ts ONNX training</title><script type="module" src="/page.js"></script>' });
  files.set('/favicon.ico', { type: 'image/x-icon', body: new Uint8Array(0) });
  // ONNX Runtime Web's wasm binary and its loader, where ort.env.wasm.wasmPaths points.
  const dist = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), '.');
  for (const name of readdirSync(dist).filter((f) => /^ort-wasm-simd-threaded\.(wasm|mjs)$/.test(f))) {
    files.set(`/ort/${name}`, { type: name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', body: new Uint8Array(readFileSync(join(dist, name))) });
  }
  expect([...files.keys()]).toContain('/ort/ort-wasm-simd-threaded.wasm');
  server = await serveOnLoopback((request, response) => {
    const file = files.get((request.url ?? '').split('?')[0]!);
    if (file) response.writeHead(200, { 'content-type': file.type }).end(file.body);
    else response.writeHead(404).end();
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Eight images, two per class: class k has a bright k-th quadrant. */
function quadrants(): { images: number[]; labels: number[] } {
  const labels = [0, 1, 2, 3, 0, 1, 2, 3];
  const images: number[] = [];
  labels.forEach((label, i) => {
    const [top, left] = [(label >> 1) * (SIZE / 2), (label & 1) * (SIZE / 2)];
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const bright = y >= top && y < top + SIZE / 2 && x >= left && x < left + SIZE / 2;
        for (let c = 0; c < 3; c++) images.push((bright ? 0.8 : -0.8) + 0.1 * Math.sin(i * 7 + y * 3 + x + c));
      }
    }
  });
  return { images, labels };
}

describe('createOnnxTrainer in Chromium (onnxruntime-web, wasm)', () => {
  it('trains three steps in a page: the loss falls, the first one equals tfjs\' loss, the weights sync back', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(server.base);
    await page.waitForFunction(() => typeof window.runOnnxTraining === 'function');
    const { images, labels } = quadrants();
    const result = (await page.evaluate(([x, y]) => window.runOnnxTraining(x as number[], y as number[]), [images, labels])) as {
      losses: number[]; tfjsLoss: number; stepMs: number[]; createMs: number; syncChangedPredictions: boolean; crossOriginIsolated: boolean; tfjsBackend: string;
    };
    console.log(`Chromium, onnxruntime-web wasm (1 thread): trainer created in ${result.createMs.toFixed(0)} ms; steps ${result.stepMs.map((t) => t.toFixed(0)).join(', ')} ms; losses ${result.losses.map((l) => l.toFixed(4)).join(' → ')}`);
    expect(result.tfjsBackend).toBe('cpu');
    expect(result.losses).toHaveLength(3);
    result.losses.forEach((loss) => expect(Number.isFinite(loss)).toBe(true));
    expect(Math.abs(result.losses[0]! - result.tfjsLoss)).toBeLessThan(1e-4 * Math.max(1, result.tfjsLoss));
    expect(result.losses[2]!).toBeLessThan(result.losses[0]!);
    expect(result.syncChangedPredictions).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
