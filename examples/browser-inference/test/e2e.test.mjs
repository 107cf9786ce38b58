// End to end, in a real browser: build the app for production, serve it on 127.0.0.1 with the
// COOP/COEP headers, load a fixture model, upload a fixture image, and check that the page's
// top 5 equals what Node computes for the same model and image. Also: no console errors, the
// threaded wasm build runs minified (tensorflow/tfjs#4253), and the random-weights banner.
//
//   npm test   (needs Debian's chromium at /usr/bin/chromium, or CHROMIUM=<path>)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { createXception, decodePredictions, preprocessInput } from 'xception-ts';

const app = fileURLToPath(new URL('..', import.meta.url));
const image = fileURLToPath(new URL('../../images/chelsea.png', import.meta.url));
const results = join(app, 'test-results');
const modelDir = mkdtempSync(join(tmpdir(), 'xception-browser-model-'));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.bin': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml' };

let server;
let base;
let browser;
let expected; // Node's top 6 for the fixture model and image

before(async () => {
  // 1. The production build (minified), as a user would deploy it.
  const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], { cwd: app, encoding: 'utf8' });
  assert.equal(build.status, 0, `vite build failed:\n${build.stdout}\n${build.stderr}`);

  // 2. A fixture model with seeded random weights whose top classes are well apart, saved as a
  //    tfjs layers model (what `xception-ts convert` writes), and Node's answer for the image.
  const require = createRequire(import.meta.url);
  setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  tf.env().set('PROD', true);
  await tf.setBackend('wasm');
  const model = createXception();
  tf.tidy(() =>
    model.setWeights(model.weights.map((w, i) => {
      const shape = w.shape;
      if (w.originalName.endsWith('moving_variance') || w.originalName.endsWith('gamma')) return tf.ones(shape);
      if (shape.length === 1) return tf.zeros(shape);
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const scale = w.originalName.startsWith('predictions') ? 4 / Math.sqrt(fanIn) : Math.sqrt(2 / fanIn);
      return tf.randomNormal(shape, 0, scale, 'float32', 1000 + i);
    })),
  );
  // Scale the classifier so that the logits spread by ~3 (features after pooling are small).
  const png = PNG.sync.read(readFileSync(image));
  const input = tf.tidy(() => {
    const pixels = tf.tensor3d(png.data, [png.height, png.width, 4], 'int32').slice([0, 0, 0], [-1, -1, 3]);
    return preprocessInput(tf.image.resizeBilinear(pixels, [299, 299]).expandDims(0));
  });
  spreadLogits(model, input);
  await saveLayersModel(model, modelDir);
  // A small one for ONNX Runtime's WebGPU provider on SwiftShader, where the full model at 299×299
  // takes minutes: the keras architecture at 71×71 with one middle-flow unit, 10 classes.
  const small = createXception({ inputShape: [71, 71, 3], numClasses: 10, middleFlowRepeats: 1 });
  tf.tidy(() => small.setWeights(small.weights.map((w, i) => {
    const fanIn = w.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (w.shape.length === 1) return w.originalName.endsWith('moving_variance') || w.originalName.endsWith('gamma') ? tf.ones(w.shape) : tf.zeros(w.shape);
    return tf.randomNormal(w.shape, 0, Math.sqrt(2 / fanIn), 'float32', 2000 + i);
  })));
  const smallInput = tf.tidy(() => tf.image.resizeBilinear(input, [71, 71]));
  spreadLogits(small, smallInput);
  smallInput.dispose();
  mkdirSync(join(modelDir, 'small'));
  await saveLayersModel(small, join(modelDir, 'small'));
  small.dispose();
  const probabilities = model.predict(input);
  input.dispose();
  expected = decodePredictions(probabilities, 6)[0];
  probabilities.dispose();
  model.dispose();
  // The ranking comparison means something only if neighbours are apart by more than float noise
  // between two wasm builds (~1e-6 here).
  for (let i = 0; i < 5; i++) assert.ok(expected[i].probability - expected[i + 1].probability > 1e-5, `fixture classes too close: ${JSON.stringify(expected)}`);

  // 3. Serve dist/ and the model with COOP/COEP, so the page is cross-origin isolated.
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.startsWith('/model/') ? join(modelDir, normalize(path.slice(7))) : join(app, 'dist', normalize(path === '/' ? 'index.html' : path));
    try {
      const body = readFileSync(file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // --enable-unsafe-swiftshader: WebGL in software, since there is no GPU here. --enable-unsafe-webgpu:
    // navigator.gpu on Linux (here SwiftShader's WebGPU adapter, google swiftshader, a fallback adapter).
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'],
  });
  mkdirSync(results, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  rmSync(modelDir, { recursive: true, force: true });
});

/** Scales the classifier of `model` so that its logits for `input` spread by ~3 (features after pooling are small). */
function spreadLogits(model, input) {
  tf.tidy(() => {
    const pooled = tf.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output }).predict(input);
    const rms = tf.sqrt(tf.mean(tf.square(pooled))).dataSync()[0];
    const dense = model.getLayer('predictions');
    const [kernel, bias] = dense.getWeights();
    // logits ≈ pooled · kernel, whose spread is rms · √n · (the kernel's spread): aim for 3.
    const target = 3 / (rms * Math.sqrt(kernel.shape[0]));
    const spread = tf.sqrt(tf.mean(tf.square(kernel))).dataSync()[0];
    dense.setWeights([kernel.mul(target / spread), bias]);
  });
}

/** Saves a layers model as `xception-ts convert` writes one: model.json and weights.bin in `dir`. */
async function saveLayersModel(model, dir) {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model', generatedBy: 'e2e fixture', modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

/** Opens the page, collecting console errors and the wasm binaries it fetched; `withoutWebGpu` hides navigator.gpu. */
async function open(path, { withoutWebGpu = false } = {}) {
  const page = await browser.newPage();
  if (withoutWebGpu) await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  // tfjs starts half the logical cores as wasm threads (up to 4): 1 on a 2-core CI machine, which
  // would leave the worker threads idle. Report 8 cores so that 4 workers really run kernels.
  await page.addInitScript(() => Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => 8 }));
  const errors = [];
  const wasm = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => request.url().endsWith('.wasm') && wasm.push(request.url().split('/').at(-1)));
  await page.goto(`${base}${path}`);
  await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 120_000 });
  return { page, errors, wasm };
}

const topOf = (page) =>
  page.$$eval('#top5 li', (items) => items.map((li) => ({ classIndex: Number(li.dataset.classIndex), probability: Number(li.dataset.probability), text: li.textContent })));

test('the production build classifies the fixture image like Node, on threaded wasm, without console errors', async () => {
  const { page, errors, wasm } = await open('/');
  assert.equal(await page.$eval('#status', (s) => s.dataset.state), 'ready', await page.$eval('#status', (s) => s.textContent));
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.equal(await page.$eval('#banner', (b) => b.hidden), true, 'the converted model should load');
  assert.ok(wasm.some((name) => name.includes('threaded-simd')), `expected the threaded SIMD binary; fetched ${wasm.join(', ')}`);
  assert.match(await page.$eval('#status', (s) => s.textContent), /, wasm\./);

  await page.setInputFiles('#file', image);
  await page.waitForSelector('#status[data-state="done"]', { timeout: 120_000 });
  const wasmTop5 = await topOf(page);
  assert.deepEqual(wasmTop5.map((p) => p.classIndex), expected.slice(0, 5).map((p) => p.classIndex));
  wasmTop5.forEach((p, i) => assert.ok(Math.abs(p.probability - expected[i].probability) < 1e-4, `${p.probability} vs ${expected[i].probability}`));
  assert.ok(wasmTop5[0].text.startsWith(expected[0].label));
  assert.match(await page.$eval('#status', (s) => s.textContent), /on wasm, 4 threads \(cross-origin isolated\)/);

  // The Grad-CAM overlay of the top class, beside the top 5: the image's size, every pixel opaque,
  // and visibly tinted (jet colours at alpha 0.4) compared with the image itself.
  const cam = await page.$eval('#cam', async (canvas) => {
    const overlay = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const bitmap = await createImageBitmap(await (await fetch(document.getElementById('preview').src)).blob(), { colorSpaceConversion: 'none' });
    const plain = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
    plain.drawImage(bitmap, 0, 0);
    const pixels = plain.getImageData(0, 0, bitmap.width, bitmap.height).data;
    let opaque = 0;
    let difference = 0;
    for (let i = 0; i < overlay.length; i += 4) {
      if (overlay[i + 3] === 255) opaque++;
      for (let c = 0; c < 3; c++) difference += Math.abs(overlay[i + c] - pixels[i + c]);
    }
    return {
      hidden: canvas.hidden, width: canvas.width, height: canvas.height, imageSize: [bitmap.width, bitmap.height],
      classIndex: Number(canvas.dataset.classIndex), opaque, meanDifference: difference / (3 * overlay.length / 4),
    };
  });
  assert.equal(cam.hidden, false);
  assert.deepEqual([cam.width, cam.height], cam.imageSize);
  assert.equal(cam.classIndex, expected[0].classIndex);
  assert.equal(cam.opaque, cam.width * cam.height);
  assert.ok(cam.meanDifference > 10, `the overlay should tint the image; mean difference ${cam.meanDifference}`);

  // Latency per backend: the second run on each (the first compiles shaders / warms caches),
  // by switching back and forth.
  const latency = { wasm: Number(await page.$eval('#status', (s) => s.dataset.latencyMs)) };
  // ONNX Runtime Web on wasm (threads) beside tfjs: twice, the second run warm. (Its WebGPU provider:
  // the next test, on a small model; SwiftShader takes minutes for this one.)
  const keys = { wasm: 'wasmAfterSoftwareWebgl', webgl: 'webgl', 'onnx-wasm': 'onnxRuntimeWebWasm' };
  for (const backend of ['onnx-wasm', 'wasm', 'onnx-wasm', 'webgl', 'wasm', 'webgl']) {
    const key = keys[backend];
    await page.evaluate(() => { document.getElementById('status').dataset.state = 'switching'; });
    await page.selectOption('#backend', backend);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 120_000 }).catch(async (error) => {
      throw new Error(`${backend}: ${error.message}; status ${await page.$eval('#status', (s) => s.textContent)}; console errors ${JSON.stringify(errors)}`);
    });
    assert.equal(await page.$eval('#status', (s) => s.dataset.state), 'done', `${backend}: ${await page.$eval('#status', (s) => s.textContent)}`);
    latency[key] = Number(await page.$eval('#status', (s) => s.dataset.latencyMs));
    const top = await topOf(page);
    assert.equal(await page.$eval('#status', (s) => s.dataset.backend), backend);
    assert.equal(top[0].classIndex, expected[0].classIndex, `${backend}: top-1`);
    if (backend === 'onnx-wasm') top.forEach((p, i) => assert.ok(Math.abs(p.probability - expected[i].probability) < 1e-4, `onnx: ${p.probability} vs ${expected[i].probability}`));
  }
  await page.screenshot({ path: join(results, 'browser-inference.png'), fullPage: true });
  writeFileSync(join(results, 'latency.json'), `${JSON.stringify({ ...latency, status: await page.$eval('#status', (s) => s.textContent) }, null, 2)}\n`);
  console.log(`latency (ms; webgl: second run): ${JSON.stringify(latency)}; screenshot ${join(results, 'browser-inference.png')}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("ONNX Runtime Web's WebGPU provider (SwiftShader here) classifies like tfjs' wasm backend, and the page says it ran there", async () => {
  const { page, errors } = await open('/?model=/model/small/model.json');
  assert.equal(await page.$eval('#banner', (b) => b.hidden), true, 'the small model should load');
  await page.setInputFiles('#file', image);
  await page.waitForSelector('#status[data-state="done"]', { timeout: 120_000 });
  assert.equal(await page.$eval('#status', (s) => s.dataset.device), 'wasm');
  const onWasm = await topOf(page);
  await page.evaluate(() => { document.getElementById('status').dataset.state = 'switching'; });
  await page.selectOption('#backend', 'onnx-webgpu');
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 180_000 });
  const status = await page.$eval('#status', (s) => ({ ...s.dataset, text: s.textContent }));
  console.log(`onnx-webgpu, 71×71 model: ${status.text}`);
  assert.equal(status.state, 'done', status.text);
  // It ran on the WebGPU provider, not on the wasm fallback, and the page names the adapter.
  assert.equal(status.backend, 'onnx-webgpu');
  assert.equal(status.device, 'webgpu');
  assert.match(status.text, /on onnx-webgpu, webgpu provider.* — WebGPU adapter: \S/);
  const onWebGpu = await topOf(page);
  assert.deepEqual(onWebGpu.map((p) => p.classIndex), onWasm.map((p) => p.classIndex));
  onWebGpu.forEach((p, i) => assert.ok(Math.abs(p.probability - onWasm[i].probability) < 1e-4, `webgpu ${p.probability} vs wasm ${onWasm[i].probability}`));
  assert.ok(onWasm[0].probability - onWasm[1].probability > 1e-3, `classes too close to compare: ${JSON.stringify(onWasm)}`);
  writeFileSync(join(results, 'latency-webgpu.json'), `${JSON.stringify({ onnxRuntimeWebWebgpuSwiftShaderFirstRun71px: Number(status.latencyMs), status: status.text }, null, 2)}\n`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('without a WebGPU adapter, both WebGPU choices fall back to wasm and say so', async () => {
  const { page, errors } = await open('/?model=/model/small/model.json', { withoutWebGpu: true });
  assert.equal(await page.evaluate(() => navigator.gpu), undefined);
  await page.setInputFiles('#file', image);
  await page.waitForSelector('#status[data-state="done"]', { timeout: 120_000 });
  const onWasm = await topOf(page);
  for (const [backend, note] of [['onnx-webgpu', /ONNX Runtime WebGPU did not start \(device 'webgpu' did not start: .*found: cpu \(wasm\).*\), fell back to wasm/], ['webgpu', /tfjs webgpu: no WebGPU adapter, fell back to wasm/]]) {
    await page.evaluate(() => { document.getElementById('status').dataset.state = 'switching'; });
    await page.selectOption('#backend', backend);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 120_000 });
    const status = await page.$eval('#status', (s) => ({ ...s.dataset, text: s.textContent }));
    assert.equal(status.state, 'done', `${backend}: ${status.text}`);
    assert.equal(status.device, 'wasm', `${backend}: ${status.text}`);
    assert.match(status.text, note);
    const top = await topOf(page);
    assert.deepEqual(top.map((p) => p.classIndex), onWasm.map((p) => p.classIndex));
    top.forEach((p, i) => assert.ok(Math.abs(p.probability - onWasm[i].probability) < 1e-4, `${backend} → wasm: ${p.probability} vs ${onWasm[i].probability}`));
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('without a model it says how to make one and runs with random weights, under a banner', async () => {
  const { page, errors } = await open('/?model=/model/missing.json');
  assert.equal(await page.$eval('#status', (s) => s.dataset.state), 'ready');
  assert.equal(await page.$eval('#banner', (b) => b.hidden), false);
  const banner = await page.$eval('#banner', (b) => b.textContent);
  assert.match(banner, /random weights/);
  assert.match(banner, /npx xception-ts convert/);
  assert.deepEqual(errors.filter((e) => !e.includes('404')), []); // the HEAD probe's 404 is expected
  await page.close();
});
