import { PNG } from 'pngjs';
import { decodeImageBytes } from '../src/data/decode-image.js';
import { IMAGE_LIMITS } from '../src/data/image-limits.js';
import { readImageFile } from '../src/data/read-image-file.js';

/** Decoded pixels: RGBA, row-major. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Reads a PNG or JPEG file into RGBA pixels through the library's bounded
 * reader and decoder (src/data): a regular file of at most IMAGE_LIMITS.maxBytes,
 * a declared size of at most IMAGE_LIMITS.maxPixels checked before decoding.
 * Every failure is an XceptionImageError.
 */
export async function readImageRgba(path: string): Promise<DecodedImage> {
  const bytes = await readImageFile(path, IMAGE_LIMITS.maxBytes);
  const { data, width, height } = await decodeImageBytes(bytes, { channels: 4, name: path });
  return { data, width, height };
}

/** Encodes RGBA pixels as a PNG. */
export function encodePng(image: { data: Uint8Array | Uint8ClampedArray; width: number; height: number }): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}
