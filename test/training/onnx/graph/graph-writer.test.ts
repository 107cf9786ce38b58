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

describe('GraphWriter.output', () => {
  it('renames a computed value into the output (no Identity copy); inputs and second outputs go through an Identity', async () => {
    const g = new GraphWriter();
    const x = g.input('x', [3]);
    const doubled = g.op('Add', [x, x], 'doubled');
    const squared = g.op('Mul', [doubled, doubled], 'squared'); // reads `doubled` before it is renamed
    g.output(doubled, 'twice', [3]);
    g.output(doubled, 'twice_again', [3]); // the same value twice: the second is a copy
    const plusOne = g.op('Add', [doubled, g.scalar(1)], 'plus_one'); // written after the rename, by its old name
    g.output(x, 'x_out', [3]); // a graph input
    g.output(squared, 'squared_out', [3]);
    g.output(plusOne, 'plus_one_out', [3]);
    expect(g.nodes.filter((n) => n.op_type === 'Identity').map((n) => [n.input[0], n.output[0]])).toEqual([['twice', 'twice_again'], ['x', 'x_out']]);
    expect(g.nodes.find((n) => n.op_type === 'Mul')!.input).toEqual(['twice', 'twice']);
    expect(g.nodes.find((n) => n.output[0] === 'plus_one_out')!.input[0]).toBe('twice');

    const session = await ort.InferenceSession.create(g.encode('renames', 'renames'));
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) });
    expect(Array.from(out.twice!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(Array.from(out.twice_again!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(Array.from(out.x_out!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(out.squared_out!.data as Float32Array)).toEqual([4, 16, 36]);
    expect(Array.from(out.plus_one_out!.data as Float32Array)).toEqual([3, 5, 7]);
    await session.release();
  });

  it('writes nodes of other operator sets with their domain imported at version 1', async () => {
    const g = new GraphWriter();
    const x = g.input('x', [1, 4, 2, 2]);
    g.output(g.domainOp('com.microsoft.nchwc', 'ReorderOutput', [g.domainOp('com.microsoft.nchwc', 'ReorderInput', [x], 'blocked')], 'back', [{ name: 'channels', type: 2, i: 4 }]), 'y', [1, 4, 2, 2]);
    const session = await ort.InferenceSession.create(g.encode('nchwc', 'nchwc'));
    const values = Float32Array.from({ length: 16 }, (_, i) => i);
    const { y } = await session.run({ x: new ort.Tensor('float32', values, [1, 4, 2, 2]) });
    expect(Array.from(y!.data as Float32Array)).toEqual(Array.from(values));
    await session.release();
  });
});
