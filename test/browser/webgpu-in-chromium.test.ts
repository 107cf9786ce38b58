import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';

/*
 * WebGPU in a browser tab: Debian's Chromium with --enable-unsafe-webgpu (the flag that exposes
 * navigator.gpu on Linux; headless and without a GPU it gets SwiftShader's Vulkan adapter, real
 * WGSL shaders run on the CPU, slowly, so the models are narrow and small). ONNX Runtime Web's
 * WebGPU provider ('onnxruntime-web/webgpu': the C++ WebGPU provider onnxruntime-node also
 * carries) against its wasm provider, and tfjs' webgpu backend against its cpu backend.
 */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--enable-unsafe-webgpu'];
let server: LoopbackServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];
/** Where ONNX Runtime's partitioner put the nodes of each verbose-logged session, in order. */
const placements: { provider: string; nodes: number }[] = [];
const files = new Map<string, { type: string; body: string | Uint8Array }>();

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  const bundle = await build({
    entryPoints: [new URL('./webgpu-page.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['fs/promises', 'crypto', 'os', 'path', 'node:*'],
    logLevel: 'silent',
  });
  files.set('/page.js', { type: 'text/javascript', body: bundle.outputFiles[0]!.text });
  files.set('/', { type: 'text/html', body: '<!doctype html><title>xception-ts WebGPU</title><script type="module" src="/page.js"></script>' });
  files.set('/favicon.ico', { type: 'image/x-icon', body: new Uint8Array(0) });
  // The binary 'onnxruntime-web/webgpu' loads (the asyncify build: wasm and WebGPU providers), and its loader.
  const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  for (const name of readdirSync(dist).filter((f) => /^ort-wasm-simd-threaded\.asyncify\.(wasm|mjs)$/.test(f))) {
    files.set(`/ort/${name}`, { type: name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', body: new Uint8Array(readFileSync(`${dist}/${name}`)) });
  }
  expect([...files.keys()]).toContain('/ort/ort-wasm-simd-threaded.asyncify.wasm');
  server = await serveOnLoopback((request, response) => {
    const file = files.get((request.url ?? '').split('?')[0]!);
    if (file) response.writeHead(200, { 'content-type': file.type }).end(file.body);
    else response.writeHead(404).end();
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...FLAGS],
  });
  page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    const text = m.text();
    // ONNX Runtime's verbose and info session logs (asked for by the page) arrive as console errors.
    if (/\[[VI]:onnxruntime:/.test(text)) {
      const placed = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(text);
      if (placed) placements.push({ provider: placed[1]!, nodes: Number(placed[2]) });
    } else if (m.type() === 'error') errors.push(text);
  });
  await page.goto(server.base);
  await page.waitForFunction(() => typeof window.onnxTraining === 'function');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Difference {
  relative: number;
  scale: number;
  length: number;
}

describe(`WebGPU in Chromium (${FLAGS.join(' ')})`, () => {
  it('has a WebGPU adapter: SwiftShader here, a fallback adapter', async () => {
    const info = (await page.evaluate(() => window.adapterInfo())) as Record<string, unknown> | null;
    console.log(`Chromium's WebGPU adapter: ${JSON.stringify(info)}`);
    expect(info).not.toBeNull();
    // Without a GPU only SwiftShader is there; on a machine with one this names its vendor instead.
    if (info!['architecture'] === 'swiftshader') expect(info!['isFallbackAdapter']).toBe(true);
  });

  it("exportOnnx's graph on ONNX Runtime Web's WebGPU provider equals its wasm provider (and tfjs)", async () => {
    placements.length = 0;
    const result = (await page.evaluate(() => window.onnxInference())) as { webgpuVsWasm: Difference; wasmVsTfjs: Difference; ms: Record<string, number> };
    console.log(`onnxruntime-web, narrow keras 48×48 batch 2: WebGPU vs wasm max relative difference ${result.webgpuVsWasm.relative.toExponential(2)} (scale ${result.webgpuVsWasm.scale.toFixed(3)}), wasm vs tfjs cpu ${result.wasmVsTfjs.relative.toExponential(2)}; run ${result.ms['webgpu']!.toFixed(0)} ms WebGPU, ${result.ms['wasm']!.toFixed(0)} ms wasm`);
    expect(result.webgpuVsWasm.length).toBe(6);
    expect(result.webgpuVsWasm.scale).toBeGreaterThan(0.1); // logits that mean something, not all near 0
    expect(result.webgpuVsWasm.relative).toBeLessThan(1e-4);
    expect(result.wasmVsTfjs.relative).toBeLessThan(1e-4);
    // The WebGPU session's nodes, all of them, on the WebGPU provider (none left to the CPU provider).
    console.log(`node placement: ${JSON.stringify(placements)}`);
    expect(placements).toEqual([{ provider: 'WebGpuExecutionProvider', nodes: expect.any(Number) }]);
    expect(placements[0]!.nodes).toBeGreaterThan(40);
    expect(errors).toEqual([]);
  }, 120_000);

  it("createOnnxTrainer on device 'webgpu' trains three steps, the loss falling and equal to wasm's; 'auto' picks wasm because the adapter is software", async () => {
    type Run = { losses: number[]; stepMs: number[]; device: { device: string; requested: string; executionProviders: string[]; adapter?: string; reason: string } };
    placements.length = 0;
    const result = (await page.evaluate(() => window.onnxTraining())) as { webgpu: Run; auto: Run; tfjsLoss: number; lossesWebgpuVsAuto: Difference };
    const { webgpu, auto } = result;
    console.log(`createOnnxTrainer, narrow keras 32×32 batch 2, Adam: WebGPU losses ${webgpu.losses.map((l) => l.toFixed(5)).join(' → ')} (steps ${webgpu.stepMs.map((t) => t.toFixed(0)).join(', ')} ms); auto → ${auto.device.device} losses ${auto.losses.map((l) => l.toFixed(5)).join(' → ')}; max relative difference ${result.lossesWebgpuVsAuto.relative.toExponential(2)}; tfjs first loss ${result.tfjsLoss.toFixed(5)}`);
    console.log(`device 'webgpu': ${JSON.stringify(webgpu.device)}\ndevice 'auto': ${JSON.stringify(auto.device)}`);
    expect(webgpu.device).toMatchObject({ device: 'webgpu', requested: 'webgpu', executionProviders: ['webgpu'] });
    expect(webgpu.device.adapter).toMatch(/swiftshader/i);
    expect(webgpu.losses).toHaveLength(3);
    expect(webgpu.losses[2]!).toBeLessThan(webgpu.losses[0]!);
    expect(Math.abs(webgpu.losses[0]! - result.tfjsLoss) / result.tfjsLoss).toBeLessThan(1e-4);
    expect(auto.device).toMatchObject({ device: 'cpu', requested: 'auto', executionProviders: ['wasm'] });
    expect(auto.device.reason).toMatch(/WebGPU not used: software adapter/);
    expect(auto.device.reason).toMatch(/swiftshader/i);
    expect(result.lossesWebgpuVsAuto.relative).toBeLessThan(1e-4);
    // Every session of the WebGPU trainer (its training graph) placed entirely on WebGPU.
    console.log(`node placement: ${JSON.stringify(placements)}`);
    expect(placements.length).toBeGreaterThan(0);
    for (const placement of placements) expect(placement.provider).toBe('WebGpuExecutionProvider');
    expect(Math.min(...placements.map((p) => p.nodes))).toBeGreaterThan(200);
    expect(errors).toEqual([]);
  }, 150_000);

  it("createXception (mini preset) on tfjs' webgpu backend equals its cpu backend", async () => {
    const result = (await page.evaluate(() => window.tfjsWebgpu())) as { backend: string; ms: number; warmMs: number; webgpuVsCpu: Difference };
    console.log(`tfjs webgpu backend, createXception mini preset 48×48×1 batch 2: max relative difference to cpu ${result.webgpuVsCpu.relative.toExponential(2)} (scale ${result.webgpuVsCpu.scale.toFixed(3)}); predict ${result.ms.toFixed(0)} ms, again ${result.warmMs.toFixed(0)} ms`);
    expect(result.backend).toBe('webgpu');
    expect(result.webgpuVsCpu.length).toBe(14);
    expect(result.webgpuVsCpu.scale).toBeGreaterThan(0.1);
    expect(result.webgpuVsCpu.relative).toBeLessThan(1e-4);
    expect(errors).toEqual([]);
  }, 150_000);
});
