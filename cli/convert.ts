import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { quantize, type Quantization, type WeightSpec } from './quantize.js';

const SHARD_BYTES = 4 * 1024 * 1024; // tfjs' own shard size

/**
 * Writes a model as a TensorFlow.js layers model (model.json + weight shards)
 * that plain `tf.loadLayersModel` loads, optionally quantized. Returns the
 * files written and their total size.
 */
export async function writeLayersModel(
  model: LayersModel,
  outDir: string,
  quantization: Quantization | undefined,
): Promise<{ files: string[]; bytes: number }> {
  let artifacts: io.ModelArtifacts | undefined;
  const { io: tfio } = await import('@tensorflow/tfjs-core');
  await model.save(
    tfio.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const { modelTopology, weightSpecs, weightData } = artifacts!;
  const data = new Uint8Array(weightData as ArrayBuffer);

  const specs: WeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const spec of weightSpecs as WeightSpec[]) {
    const count = spec.shape.reduce((n, d) => n * d, 1);
    const raw = data.subarray(offset, offset + count * 4);
    offset += count * 4;
    if (!quantization) {
      specs.push(spec);
      chunks.push(raw);
    } else {
      const values = new Float32Array(raw.slice().buffer);
      const q = quantize(values, spec, quantization);
      specs.push(q.spec);
      chunks.push(q.bytes);
    }
  }
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (all.set(c, at), at + c.length), 0);

  await mkdir(outDir, { recursive: true });
  const shardCount = Math.max(1, Math.ceil(all.length / SHARD_BYTES));
  const paths = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
  const files: string[] = [];
  for (const [i, path] of paths.entries()) {
    await writeFile(join(outDir, path), all.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
    files.push(path);
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'xception-ts convert',
    convertedBy: null,
    modelTopology,
    weightsManifest: [{ paths, weights: specs }],
  };
  const json = JSON.stringify(modelJson);
  await writeFile(join(outDir, 'model.json'), json);
  files.unshift('model.json');
  return { files, bytes: all.length + Buffer.byteLength(json) };
}
