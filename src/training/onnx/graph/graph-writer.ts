import { modelProtoType } from '../../../onnx/onnx-schema.js';

/**
 * A small writer of ONNX graphs for the training graph: nodes with unique
 * names, constants as initializers, typed graph inputs and outputs, and the
 * serialized `ModelProto`. Internal.
 */

/** The operator set of the training and evaluation graphs (17: LayerNormalization-era ops, ReduceSum's axes as an input). */
export const TRAINING_OPSET = 17;
/** The IR version that goes with opset 17. */
const IR_VERSION = 8;

/** ONNX tensor element types used here. */
export const FLOAT = 1;
export const INT64 = 7;

/** One node attribute, as the schema's AttributeProto. */
export type Attribute = { name: string; type: number; i?: number; ints?: number[]; f?: number; s?: Uint8Array };
type Node = { op_type: string; input: string[]; output: string[]; name: string; attribute: Attribute[]; domain?: string };
type Initializer = { name: string; dims: number[]; data_type: number; raw_data: Uint8Array };
type ValueInfo = { name: string; type: { tensor_type: { elem_type: number; shape: { dim: { dim_value: number }[] } } } };

/** An integer attribute. */
export function int(name: string, i: number): Attribute {
  return { name, type: 2, i };
}
/** A list-of-integers attribute. */
export function ints(name: string, values: readonly number[]): Attribute {
  return { name, type: 7, ints: [...values] };
}
/** A float attribute. */
export function float(name: string, f: number): Attribute {
  return { name, type: 1, f };
}
/** A string attribute. */
export function str(name: string, s: string): Attribute {
  return { name, type: 3, s: new TextEncoder().encode(s) };
}

const BIG_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;

/** ONNX's raw_data is little-endian; reorders bytes of `width`-byte elements on a big-endian machine. */
function littleEndian(bytes: Uint8Array, width: number): Uint8Array {
  if (!BIG_ENDIAN) return bytes;
  const copy = bytes.slice();
  for (let i = 0; i < copy.length; i += width) copy.subarray(i, i + width).reverse();
  return copy;
}

/** Collects the nodes, constants, inputs and outputs of one graph. */
export class GraphWriter {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  /** The node that writes each node output, for renaming a value into a graph output. */
  private readonly producers = new Map<string, Node>();
  /** Values renamed into graph outputs: old name → output name. */
  private readonly renamed = new Map<string, string>();
  /** Operator sets other than ONNX's that nodes use (imported at version 1). */
  private readonly domains = new Set<string>();

  /** A tensor name not used yet, `base` itself when free. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node with one output named after `hint`; returns the output's name. */
  op(type: string, input: string[], hint: string, attribute: Attribute[] = []): string {
    return this.opN(type, input, [hint], attribute)[0]!;
  }

  /**
   * Adds a node of an operator set other than ONNX's own (e.g. ONNX Runtime's `com.microsoft`
   * contrib operators, version 1), with one output; returns its name.
   */
  domainOp(domain: string, type: string, input: string[], hint: string, attribute: Attribute[] = []): string {
    this.domains.add(domain);
    return this.opN(type, input, [hint], attribute, domain)[0]!;
  }

  /** Adds a node with several outputs; returns their names. */
  opN(type: string, input: string[], hints: string[], attribute: Attribute[] = [], domain?: string): string[] {
    const output = hints.map((hint) => this.unique(hint));
    const node: Node = { op_type: type, input: input.map((name) => this.renamed.get(name) ?? name), output, name: output[0]!, attribute, ...(domain ? { domain } : {}) };
    this.nodes.push(node);
    for (const name of output) this.producers.set(name, node);
    return output;
  }

  /**
   * The element-wise sum of `inputs` as a chain of Adds (ONNX Runtime's WebGPU provider has no
   * variadic Sum, so one would run on the CPU); a single input is returned as it is.
   */
  sum(inputs: readonly string[], hint: string): string {
    if (inputs.length === 0) throw new Error('sum of no inputs');
    let total = inputs[0]!;
    for (let i = 1; i < inputs.length; i++) total = this.op('Add', [total, inputs[i]!], i === inputs.length - 1 ? hint : `${hint}/partial`);
    return total;
  }

  /** A float32 constant (cached by value for small ones). */
  floats(values: ArrayLike<number>, dims: number[], hint = 'const'): string {
    const data = Float32Array.from(values);
    const key = data.length <= 16 ? `f${dims.join('x')}:${Array.from(data).join(',')}` : null;
    if (key && this.constants.has(key)) return this.constants.get(key)!;
    const name = this.unique(key ? `const/f_${this.constants.size}` : hint);
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: littleEndian(new Uint8Array(data.buffer), 4) });
    if (key) this.constants.set(key, name);
    return name;
  }

  /**
   * A named float32 initializer of any size (a frozen weight): never cached by value, and the
   * name is taken as it is, like a graph input's. ONNX Runtime treats it as a constant
   * (prepacked, constant-folded).
   */
  initializer(name: string, values: Float32Array, dims: readonly number[]): string {
    if (this.names.has(name)) throw new Error(`initializer name '${name}' is already used`);
    if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer '${name}' has ${values.length} values for shape [${dims}]`);
    this.names.add(name);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push({ name, dims: [...dims], data_type: FLOAT, raw_data: littleEndian(bytes, 4) });
    return name;
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.floats([value], []);
  }

  /** An int64 constant (shapes, axes, indices), cached by value. */
  int64s(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `i${dims.join('x')}:${values.join(',')}`;
    const cached = this.constants.get(key);
    if (cached) return cached;
    const name = this.unique(`const/i_${this.constants.size}`);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, data_type: INT64, raw_data: littleEndian(new Uint8Array(data.buffer), 8) });
    this.constants.set(key, name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, shape: readonly number[], elemType = FLOAT): string {
    if (this.names.has(name)) throw new Error(`graph input name '${name}' is already used`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, shape, elemType));
    return name;
  }

  /**
   * Makes `value` a graph output called `name`. A value that a node of this graph writes, and that
   * is not an output yet, is renamed (its producer writes `name` directly, its readers read it):
   * an Identity would copy it, and ONNX Runtime keeps Identities that write graph outputs — 550 of
   * them, 190 ms of a 1.2 s Keras Xception training step, before this. Graph inputs,
   * initializers and values that are outputs already go through an Identity.
   */
  output(value: string, name: string, shape: readonly number[], elemType = FLOAT): string {
    const current = this.renamed.get(value) ?? value;
    if (current !== name) {
      if (this.names.has(name)) throw new Error(`graph output name '${name}' is already used`);
      this.names.add(name);
      const producer = this.producers.get(current);
      if (producer && !this.outputs.some((o) => o.name === current)) {
        producer.output = producer.output.map((o) => (o === current ? name : o));
        for (const node of this.nodes) if (node.input.includes(current)) node.input = node.input.map((i) => (i === current ? name : i));
        this.producers.delete(current);
        this.producers.set(name, producer);
        this.renamed.set(value, name); // here current === value: a renamed value is an output already
      } else {
        this.nodes.push({ op_type: 'Identity', input: [current], output: [name], name, attribute: [] });
      }
    }
    this.outputs.push(valueInfo(name, shape, elemType));
    return name;
  }

  /**
   * Serializes the graph as an `onnx.ModelProto`. Initializers of {@link LARGE_INITIALIZER_BYTES}
   * or more (frozen weights) are written by hand into the one output buffer: protobufjs copies
   * each byte field twice and took 0.7 s for a frozen Xception's 84 MB. The result is the same
   * message (the graph's repeated `initializer` field, appended after its other fields).
   */
  encode(graphName: string, docString: string): Uint8Array {
    const ModelProto = modelProtoType();
    const GraphProto = ModelProto.lookupType('onnx.GraphProto');
    const TensorProto = ModelProto.lookupType('onnx.TensorProto');
    const large = this.initializers.filter((i) => i.raw_data.length >= LARGE_INITIALIZER_BYTES);
    const small = this.initializers.filter((i) => i.raw_data.length < LARGE_INITIALIZER_BYTES);
    const model = ModelProto.encode(
      ModelProto.fromObject({ ir_version: IR_VERSION, opset_import: [{ domain: '', version: TRAINING_OPSET }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))], producer_name: 'xception-ts', doc_string: docString }),
    ).finish();
    const graph = GraphProto.encode(GraphProto.fromObject({ name: graphName, node: this.nodes, initializer: small, input: this.inputs, output: this.outputs })).finish();
    const tensors = large.map(({ raw_data, ...header }) => {
      const head = TensorProto.encode(TensorProto.fromObject(header)).finish();
      return { head, data: raw_data, length: head.length + 1 + varintLength(raw_data.length) + raw_data.length };
    });
    const graphLength = tensors.reduce((n, t) => n + 1 + varintLength(t.length) + t.length, graph.length);
    const out = new Uint8Array(model.length + 1 + varintLength(graphLength) + graphLength);
    let at = 0;
    const put = (bytes: Uint8Array) => {
      out.set(bytes, at);
      at += bytes.length;
    };
    const varint = (value: number) => {
      for (; value >= 0x80; value = Math.floor(value / 0x80)) out[at++] = (value % 0x80) | 0x80;
      out[at++] = value;
    };
    // Field tags (number << 3 | 2: length-delimited): ModelProto.graph 7, GraphProto.initializer 5, TensorProto.raw_data 9.
    put(model);
    out[at++] = (7 << 3) | 2;
    varint(graphLength);
    put(graph);
    for (const tensor of tensors) {
      out[at++] = (5 << 3) | 2;
      varint(tensor.length);
      put(tensor.head);
      out[at++] = (9 << 3) | 2;
      varint(tensor.data.length);
      put(tensor.data);
    }
    return out;
  }
}

/** Initializers of this many bytes or more are copied into the serialized model by hand (see {@link GraphWriter.encode}). */
export const LARGE_INITIALIZER_BYTES = 1 << 16;

function varintLength(value: number): number {
  let length = 1;
  for (; value >= 0x80; value = Math.floor(value / 0x80)) length++;
  return length;
}

function valueInfo(name: string, shape: readonly number[], elemType: number): ValueInfo {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: shape.map((d) => ({ dim_value: d })) } } } };
}
