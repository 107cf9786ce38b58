// The real Keras 2.0.5 files of test/fixtures/keras-files/ (oarriaga's
// face_classification, MIT, licence beside them; copied from ../shared/reference so
// that a clone passes its own tests) and their independent forward passes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIR = new URL('../fixtures/keras-files/', import.meta.url);

/** The two mini_XCEPTION files: name stem and number of classes. */
export const MINI_XCEPTION_FILES = [
  { stem: 'fer2013_mini_XCEPTION.102-0.66', numClasses: 7 },
  { stem: 'gender_mini_XCEPTION.21-0.95', numClasses: 2 },
] as const;

/** The path of a file in keras-files/. */
export function kerasFilePath(name: string): string {
  return fileURLToPath(new URL(name, DIR));
}

/** A little-endian float32 file, copied out of Node's buffer pool. */
export function readF32(name: string): Float32Array {
  const bytes = readFileSync(kerasFilePath(name));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The largest absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
