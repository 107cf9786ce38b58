import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { modelProtoType } from '../../../../src/onnx/onnx-schema.js';
import { GraphWriter, LARGE_INITIALIZER_BYTES } from '../../../../src/training/onnx/graph/graph-writer.js';

describe('GraphWriter.encode', () => {
  it('writes large initializers by hand into the same ModelProto protobufjs would write, which ONNX Runtime runs', async () => {
    const g = new GraphWriter();
    const count = LARGE_INITIALIZER_BYTES / 4 + 3; // just over the threshold
    const big = Float32Array.from({ length: count }, (_, i) => Math.sin(i) * 1e3);
    const x = g.input('x', [count]);
    const w = g.initializer('frozen/kernel', big, [count]);
    const sum = g.op('Add', [g.op('Mul', [x, w], 'scaled'), g.scalar(0.5)], 'shifted');
    g.output(sum, 'y', [count]);
    const bytes = g.encode('test_graph', 'a doc string');

    const ModelProto = modelProtoType();
    const decoded = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array });
    const reference = ModelProto.toObject(
      ModelProto.decode(
        ModelProto.encode(
          ModelProto.fromObject({
            ir_version: 8, opset_import: [{ domain: '', version: 17 }], producer_name: 'xception-ts', doc_string: 'a doc string',
            graph: { name: 'test_graph', node: g.nodes, initializer: g.initializers, input: g.inputs, output: g.outputs },
          }),
        ).finish(),
      ),
      { longs: Number, bytes: Array },
    );
    // Same message; only the initializers' order differs (the large one is written last).
    const byName = (list: { name: string }[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(decoded.graph.initializer)).toEqual(byName(reference.graph.initializer));
    expect({ ...decoded, graph: { ...decoded.graph, initializer: [] } }).toEqual({ ...reference, graph: { ...reference.graph, initializer: [] } });
    expect(decoded.graph.initializer.at(-1).name).toBe('frozen/kernel');

    const session = await ort.InferenceSession.create(bytes);
    const input = Float32Array.from({ length: count }, (_, i) => (i % 7) - 3);
    const { y } = await session.run({ x: new ort.Tensor('float32', input, [count]) });
    const expected = input.map((v, i) => Math.fround(Math.fround(v * big[i]!) + 0.5));
    expect(Array.from(y!.data as Float32Array)).toEqual(Array.from(expected));
    await session.release();
  });

  it('refuses an initializer name already used, or values that do not fill its shape', () => {
    const g = new GraphWriter();
    g.input('w', [2]);
    expect(() => g.initializer('w', new Float32Array(2), [2])).toThrow("initializer name 'w' is already used");
    expect(() => g.initializer('v', new Float32Array(3), [2])).toThrow("initializer 'v' has 3 values for shape [2]");
  });
});
