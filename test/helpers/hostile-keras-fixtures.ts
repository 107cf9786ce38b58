// Small hostile Keras files, generated at test time: a tiny `.keras` archive
// whose config.json is mutated (broken graphs, huge layers, deep nesting) and
// whose model.weights.h5 may hold gzip chunks that inflate far beyond what
// their dataset declares (decompression bombs). Everything here is a few kB.
import { deflateSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm';
import * as tf from '@tensorflow/tfjs';
import * as hdf5 from 'jsfive';
import { keras3ModelConfig } from './keras3-fixtures.js';

type Json = Record<string, unknown>;

/** `x` (4 values) → Dense 'hidden' (`hiddenUnits`) → Dense 'out' (2), random weights. */
export function tinyDenseModel(hiddenUnits = 3): tf.LayersModel {
  const input = tf.input({ shape: [4], name: 'x' });
  const hidden = tf.layers.dense({ units: hiddenUnits, name: 'hidden' }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'out' }).apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'tiny' });
  model.setWeights(model.weights.map((w, i) => tf.tidy(() => tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', 11 + i))));
  return model;
}

/** The Keras 3 config of `model` (a deep copy, free to mutate). */
export function tinyConfig(model: tf.LayersModel): Json {
  return JSON.parse(JSON.stringify(keras3ModelConfig(model))) as Json;
}

/** The layer entries of a Keras 3 functional config. */
export function configLayers(config: Json): Json[] {
  return (config['config'] as Json)['layers'] as Json[];
}

/** The `keras_history` ([layer, node, tensor]) of a layer's first inbound tensor. */
export function firstHistory(layer: Json): unknown[] {
  const node = (layer['inbound_nodes'] as Json[])[0]!;
  return (((node['args'] as Json[])[0]!['config'] as Json)['keras_history']) as unknown[];
}

/**
 * Keras 3 `model.weights.h5` of `model`, every dataset one gzip chunk
 * (`/layers/dense`, `/layers/dense_1`, as Keras 3's saving_lib names them).
 */
export async function writeGzipWeights(model: tf.LayersModel): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const path = `/hostile-${Math.random().toString(36).slice(2)}.h5`;
  const file = new h5wasm.File(path, 'w');
  try {
    const layers = file.create_group('layers');
    let dense = 0;
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const name = dense === 0 ? 'dense' : `dense_${dense}`;
      dense++;
      const vars = layers.create_group(name).create_group('vars');
      layer.getWeights().forEach((value, i) => {
        vars.create_dataset({
          name: String(i), data: value.dataSync() as Float32Array, shape: value.shape, dtype: '<f',
          chunks: value.shape, compression: 9,
        });
      });
    }
    file.create_group('optimizer');
  } finally {
    file.close();
  }
  const bytes = (FS.readFile(path) as Uint8Array).slice();
  FS.unlink(path);
  return bytes;
}

/**
 * The compressed bytes of `datasetPath`'s (single) chunk, found by letting
 * jsfive read the dataset with a gzip filter that records its input.
 */
function compressedChunk(file: Uint8Array, datasetPath: string): Uint8Array {
  const original = hdf5.Filters.get(1)!;
  let seen: Uint8Array | null = null;
  hdf5.Filters.set(1, (buf: ArrayBuffer, itemsize: number, clientData: unknown) => {
    seen = new Uint8Array(buf.slice(0));
    return original(buf, itemsize, clientData);
  });
  try {
    const copy = file.slice().buffer;
    void (new hdf5.File(copy, 'x').get(datasetPath) as hdf5.Dataset).value;
  } finally {
    hdf5.Filters.set(1, original);
  }
  if (!seen) throw new Error(`${datasetPath} has no gzip chunk`);
  return seen;
}

/**
 * `weights` with the chunk of `datasetPath` replaced by a zlib stream of
 * `inflatedBytes` zeros, its stored size in the chunk B-tree set to the
 * stream's: the dataset's header is unchanged, its chunk now inflates to
 * `inflatedBytes`. Throws when the bomb does not fit the chunk's slot.
 */
export function plantChunkBomb(weights: Uint8Array, datasetPath: string, inflatedBytes: number): Uint8Array {
  const chunk = compressedChunk(weights, datasetPath);
  const at = Buffer.from(weights).indexOf(Buffer.from(chunk));
  if (at < 0) throw new Error('chunk not found in the file');
  const bomb = deflateSync(new Uint8Array(inflatedBytes), { level: 9 });
  if (bomb.length > chunk.length) throw new Error(`a ${inflatedBytes}-byte bomb takes ${bomb.length} bytes; the chunk holds ${chunk.length}`);
  const out = weights.slice();
  out.set(bomb, at);
  // The chunk's B-tree key records its stored size (uint32): make it the bomb's, so nothing trails the stream.
  const size = Buffer.alloc(4);
  size.writeUInt32LE(chunk.length);
  const keyAt = Buffer.from(weights).indexOf(size);
  if (keyAt < 0 || Buffer.from(weights).indexOf(size, keyAt + 1) >= 0) throw new Error('chunk size not found once in the file');
  new DataView(out.buffer).setUint32(keyAt, bomb.length, true);
  return out;
}

/** A `.keras` archive from a config and weights (metadata from Keras 3.8). */
export function kerasArchive(config: Json | string, weights: Uint8Array): Uint8Array {
  return zipSync({
    'metadata.json': strToU8(JSON.stringify({ keras_version: '3.8.0', date_saved: '2026-12-06@10:00:00' })),
    'config.json': strToU8(typeof config === 'string' ? config : JSON.stringify(config)),
    'model.weights.h5': [weights, { level: 0 }],
  });
}

/**
 * `config` as JSON text with the string value `"@@DEEP@@"` replaced by `deep`
 * (JSON text too deep for JSON.stringify, which recurses).
 */
export function configText(config: Json, deep: string): string {
  return JSON.stringify(config).replace('"@@DEEP@@"', deep);
}

/** JSON text of a value nested `depth` arrays deep. */
export function deepArrayJson(depth: number): string {
  return `${'['.repeat(depth)}0${']'.repeat(depth)}`;
}

/** JSON text of a Sequential nested `depth` Sequentials deep around one Dense. */
export function deepSequentialJson(depth: number): string {
  const open = '{"class_name":"Sequential","config":{"name":"s","layers":[';
  return `${open.repeat(depth)}{"class_name":"Dense","config":{"name":"d","units":2}}${']}}'.repeat(depth)}`;
}

/** Rewrites the uncompressed size of one member in its local header and the central directory. */
export function setDeclaredSize(zip: Uint8Array, member: string, size: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const name = new TextEncoder().encode(member);
  const matches = (at: number) => name.every((b, i) => zip[at + i] === b);
  for (let i = 0; i + 46 < zip.length; i++) {
    const signature = view.getUint32(i, true);
    if (signature === 0x04034b50 && view.getUint16(i + 26, true) === name.length && matches(i + 30)) view.setUint32(i + 22, size, true);
    if (signature === 0x02014b50 && view.getUint16(i + 28, true) === name.length && matches(i + 46)) view.setUint32(i + 24, size, true);
  }
}
