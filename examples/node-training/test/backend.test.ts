// The fallback message when onnxruntime-node does not load names the cause and the fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnxFailure } from '../src/backend.js';

test('a missing onnxruntime-node is named as not installed, with the offline install fix', async () => {
  // The same error Node gives for `import('onnxruntime-node')` when npm dropped it.
  const missing = (await import('onnxruntime-node-' + 'dropped-by-npm').catch((e: unknown) => e)) as Error & { code?: string };
  assert.equal(missing.code, 'ERR_MODULE_NOT_FOUND');
  assert.equal(
    onnxFailure(missing),
    'it is not installed. It is an optional dependency, and npm drops it when its install script fails, which it does offline unless ONNXRUNTIME_NODE_INSTALL=skip is set (the script only fetches a CUDA provider; the CPU binary ships in the package). Fix: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
  );
});

test('a binding that fails to load is named as such, with its first line', () => {
  const broken = Object.assign(new Error('libonnxruntime.so.1: cannot open shared object file\nmore'), { code: 'ERR_DLOPEN_FAILED' });
  assert.match(onnxFailure(broken), /^it is installed but its native binding failed \(libonnxruntime\.so\.1: cannot open shared object file\)\. .* Fix: reinstall it with ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node$/);
});
