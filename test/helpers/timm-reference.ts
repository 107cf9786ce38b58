import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/*
 * The shared timm reference outputs (shared/reference/timm: ~108 MB of
 * checkpoints, too big to copy into the repository). Found beside the checkout
 * (../shared) or at
 * $XCEPTION_TS_TIMM_REFERENCE; null when absent, and the tests that need it say so.
 */
const ROOT = resolve(__dirname, '../..');
const CANDIDATES = [
  process.env['XCEPTION_TS_TIMM_REFERENCE'],
  join(ROOT, '../shared/reference/timm'),
].filter((p): p is string => typeof p === 'string' && p.length > 0);

export const TIMM_REFERENCE_DIR: string | null = CANDIDATES.find((dir) => existsSync(join(dir, 'meta.json'))) ?? null;

export interface TimmReferenceCase {
  outputStride: 32 | 16;
  input: string;
  absmax: number;
}

export interface TimmReferenceMeta {
  models: Record<string, { weights: string; keys: number; logits: Record<string, TimmReferenceCase> }>;
}

export function timmMeta(): TimmReferenceMeta {
  return JSON.parse(readFileSync(join(TIMM_REFERENCE_DIR!, 'meta.json'), 'utf8')) as TimmReferenceMeta;
}

/** A float32 little-endian file of the reference folder. */
export function timmFloat32(file: string): Float32Array {
  const b = readFileSync(join(TIMM_REFERENCE_DIR!, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A file of the reference folder as bytes of its own. */
export function timmBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(TIMM_REFERENCE_DIR!, file)));
}
