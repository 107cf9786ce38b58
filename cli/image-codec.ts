import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Decoded pixels: RGBA, row-major. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Thrown for bytes that are neither a PNG nor a JPEG, or a corrupt one. */
export class ImageFormatError extends Error {
  override name = 'ImageFormatError';
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/** Decodes a PNG or JPEG (told apart by their first bytes) into RGBA pixels. */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  const isPng = PNG_SIGNATURE.every((b, i) => bytes[i] === b);
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) throw new ImageFormatError('not a PNG or JPEG image');
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
    }
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    return { data: image.data, width: image.width, height: image.height };
  } catch (error) {
    throw new ImageFormatError(`a corrupt ${isPng ? 'PNG' : 'JPEG'} image (${(error as Error).message})`);
  }
}

/** Encodes RGBA pixels as a PNG. */
export function encodePng(image: { data: Uint8Array | Uint8ClampedArray; width: number; height: number }): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}
