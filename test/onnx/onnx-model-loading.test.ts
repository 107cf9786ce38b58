import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XceptionConfigError, XceptionDownloadError } from '../../src/index.js';
import { createOnnxClassifier, type OnnxRuntime } from '../../src/onnx/index.js';
import { modelProtoType } from '../../src/onnx/onnx-schema.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';

// Issue 14, findings 4, 5 and 8 for the ONNX model loader: how the bytes are
// obtained (the same download limits as the weights) and the declared sizes,
// refused before anything is allocated. A 1.4 KB file declaring a [1, 1e9]
// output used to exhaust Node's heap; a 100000×100000 input was accepted and
// classify() then threw a raw RangeError.

/** A graph-only ONNX file (no nodes) with one float input and one float output of the given shapes. */
function onnxDeclaring(input: number[], output: number[]): Uint8Array {
  const info = (name: string, dims: number[]) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } },
  });
  const type = modelProtoType();
  return type.encode(type.create({
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'declared', input: [info('input', input)], output: [info('output', output)] },
  })).finish();
}

/** An ONNX Runtime stand-in: records the session it is asked for; the loader's checks run before it. */
const sessions: Uint8Array[] = [];
const fakeOrt: OnnxRuntime = {
  InferenceSession: {
    create: async (model) => {
      sessions.push(model);
      return { inputNames: ['input'], outputNames: ['output'], run: async () => ({}), release: async () => {} };
    },
  },
  Tensor: class {} as never,
};

let server: LoopbackServer;
let dir: string;
const small = onnxDeclaring([1, 8, 8, 3], [1, 3]);
beforeAll(async () => {
  server = await serveOnLoopback((request, response) => {
    if (request.url === '/silent.onnx') return; // never answers
    if (request.url === '/short.onnx') {
      response.writeHead(200, { 'content-length': small.length * 2 });
      response.write(small, () => response.destroy());
      return;
    }
    response.writeHead(200, { 'content-length': small.length }).end(small);
  });
  dir = mkdtempSync(join(tmpdir(), 'xception-ts-onnx-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('createOnnxClassifier: declared sizes', () => {
  it.each([
    [[1, 224, 224, 3], [1, 1e9], "the ONNX model's class count 1000000000 is above 100000, the largest xception-ts accepts (XCEPTION_LIMITS.maxNumClasses: a 2048 × 100000 float32 classifier already takes 819 MB)."],
    [[1, 100_000, 100_000, 3], [1, 10], "the ONNX model's input height 100000 is above 4096, the largest xception-ts accepts (XCEPTION_LIMITS.maxInputSize: a 4096 × 4096 image already takes 201 MB as float32 input)."],
    [[1, 224, 5000, 3], [1, 10], "the ONNX model's input width 5000 is above 4096, the largest xception-ts accepts (XCEPTION_LIMITS.maxInputSize: a 4096 × 4096 image already takes 201 MB as float32 input)."],
  ])('input %j, output %j is refused before a session or labels exist', async (input, output, message) => {
    sessions.length = 0;
    const bytes = onnxDeclaring(input, output);
    expect(bytes.length).toBeLessThan(1500);
    const error = await rejection(createOnnxClassifier({ model: bytes, ort: fakeOrt }));
    expect(error).toBeInstanceOf(XceptionConfigError);
    expect(error.message).toBe(message);
    expect(sessions).toEqual([]);
  });

  it('refuses negative declared sizes, and accepts the limits themselves', async () => {
    const negative = await rejection(createOnnxClassifier({ model: onnxDeclaring([1, -5, 8, 3], [1, 3]), ort: fakeOrt }));
    expect(negative).toBeInstanceOf(XceptionConfigError);
    expect(negative.message).toMatch(/^the ONNX model must have one NHWC input \[batch, height, width, 3\] with a fixed height and width/);
    const widest = await createOnnxClassifier({ model: onnxDeclaring([1, 4096, 4096, 3], [1, 100_000]), ort: fakeOrt });
    expect(widest.inputSize).toEqual([4096, 4096]);
    expect(widest.labels.length).toBe(100_000);
    expect(widest.labels[99_999]).toBe('class 99999');
  });
});

describe('createOnnxClassifier: getting the bytes', () => {
  it('a missing file is an XceptionConfigError in words, not a raw ENOENT', async () => {
    const path = join(dir, 'missing.onnx');
    const error = await rejection(createOnnxClassifier({ model: path, ort: fakeOrt }));
    expect(error).toBeInstanceOf(XceptionConfigError);
    expect(error.message).toBe(`cannot read the ONNX model file ${path}: no such file or folder (ENOENT).`);
    const folder = await rejection(createOnnxClassifier({ model: dir, ort: fakeOrt }));
    expect(folder.message).toBe(`cannot read the ONNX model file ${dir}: it is a folder, not a file (EISDIR).`);
  });

  it('a URL is fetched with the download limits: timeoutMs, a short body, maxBytes', async () => {
    const start = performance.now();
    const silent = await rejection(createOnnxClassifier({ model: `${server.base}/silent.onnx`, ort: fakeOrt, download: { timeoutMs: 200 } }));
    expect(silent).toBeInstanceOf(XceptionDownloadError);
    expect(silent.message).toBe(`could not fetch the ONNX model from ${server.base}/silent.onnx: no response within 200 ms (download.timeoutMs).`);
    expect(performance.now() - start).toBeLessThan(2000);

    const short = await rejection(createOnnxClassifier({ model: `${server.base}/short.onnx`, ort: fakeOrt }));
    expect(short).toBeInstanceOf(XceptionDownloadError);
    expect(short.message).toBe(
      `could not fetch the ONNX model from ${server.base}/short.onnx: the connection closed after ${small.length} of the ` +
        `${small.length * 2} bytes its Content-Length declares.`,
    );

    const capped = await rejection(createOnnxClassifier({ model: `${server.base}/model.onnx`, ort: fakeOrt, download: { maxBytes: 10 } }));
    expect(capped).toBeInstanceOf(XceptionDownloadError);
    expect(capped.message).toBe(
      `could not fetch the ONNX model from ${server.base}/model.onnx: its Content-Length of ${small.length} bytes is above download.maxBytes (10).`,
    );

    const fetched = await createOnnxClassifier({ model: `${server.base}/model.onnx`, ort: fakeOrt });
    expect(fetched.inputSize).toEqual([8, 8]);
    expect(fetched.labels).toEqual(['class 0', 'class 1', 'class 2']);
  });
});
