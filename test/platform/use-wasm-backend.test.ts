import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend, XceptionConfigError } from '../../src/index.js';

const ROOT = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'xception-ts-wasm-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a program that sets up the wasm backend and then throws, as a user's script would. */
function throwAfterSetUp(options: string): { status: number | null; stderr: string } {
  const script = join(dir, `throws-${options.length}.mts`);
  writeFileSync(
    script,
    `import ${JSON.stringify(pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('@tensorflow/tfjs')).href)};\n` +
      `import { useWasmBackend } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};\n` +
      `await useWasmBackend(${options});\n` +
      `setTimeout(() => { throw new Error('the user program failed here'); }, 0);\n`,
  );
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('useWasmBackend', () => {
  it('selects the wasm backend from the installed package and registers the training kernels', async () => {
    const listeners = process.listeners('uncaughtException').length;
    const info = await useWasmBackend({ training: true });
    expect(tf.getBackend()).toBe('wasm');
    expect(info.wasmPaths).toBe(join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
    expect(info.trainingKernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter']));
    expect(info.removedProcessHandlers).toBe(2);
    expect(process.listeners('uncaughtException').length).toBe(listeners);
    // The gradient kernels work: a depthwise convolution's filter gradient on wasm.
    const grad = tf.tidy(() => tf.grad((f: tf.Tensor) => tf.depthwiseConv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid').sum())(tf.ones([3, 3, 1, 1])));
    expect(Array.from(grad.dataSync())).toEqual(new Array(9).fill(4));
    grad.dispose();
  });

  it('refuses unknown and mistyped options', async () => {
    await expect(useWasmBackend({ trainig: true } as never)).rejects.toThrow(XceptionConfigError);
    await expect(useWasmBackend({ training: 'yes' } as never)).rejects.toThrow('useWasmBackend: training must be true or false; got "yes".');
    await expect(useWasmBackend({ wasmPaths: '/no/slash' })).rejects.toThrow("wasmPaths must be a folder path or URL prefix ending in '/'");
  });

  it('leaves an uncaught error readable: exit 1 and a short stderr (Emscripten’s handler: exit 7 and its minified source)', { timeout: 120_000 }, () => {
    const plain = throwAfterSetUp('');
    expect(plain.status).toBe(1);
    expect(plain.stderr).toContain('Error: the user program failed here');
    expect(plain.stderr.length).toBeLessThan(3_000);
    const kept = throwAfterSetUp('{ keepEmscriptenHandlers: true }');
    expect(kept.status).toBe(7);
    expect(kept.stderr.length).toBeGreaterThan(20_000);
  });
});
