import { XceptionImageError } from '../errors.js';
import { importOptional } from '../platform/node-import.js';
import { readImageHeader, type ImageHeader } from './image-header.js';
import { formatCount, IMAGE_LIMITS } from './image-limits.js';

/** Decoded pixels, row-major, `channels` bytes a pixel. @internal */
export interface DecodedPixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Options of {@link decodeImageBytes}. @internal */
export interface DecodeImageOptions {
  /** 1 (luminance, ITU-R 601 weights as Pillow's `convert('L')`), 3 (RGB) or 4 (RGBA). Default 3. */
  channels?: 1 | 3 | 4;
  /** Largest declared width × height. Default {@link IMAGE_LIMITS}.maxPixels. */
  maxPixels?: number;
  /** Names the image in error messages (a path, `'image bytes'`). */
  name?: string;
}

/**
 * Checks the size a PNG or JPEG header declares against `maxPixels`, before
 * anything is decoded. @internal
 */
export function checkImageHeader(bytes: Uint8Array, name: string, maxPixels: number): ImageHeader {
  const header = readImageHeader(bytes, name);
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new XceptionImageError(
      `${name}: the ${header.format.toUpperCase()} declares ${header.width}×${header.height} = ${formatCount(pixels)} pixels, ` +
        `over the pixel cap of ${formatCount(maxPixels)} (maxPixels; IMAGE_LIMITS.maxPixels by default): nothing was decoded. ` +
        `Pass a larger maxPixels if the image is trusted.`,
    );
  }
  return header;
}

/**
 * Decodes a PNG or JPEG (told apart by their signatures) with pngjs or
 * jpeg-js, after checking the declared size against the pixel cap and the
 * PNG's chunk list for truncation. Every failure is an
 * {@link XceptionImageError} naming `name`. @internal
 */
export async function decodeImageBytes(bytes: Uint8Array, options: DecodeImageOptions = {}): Promise<DecodedPixels> {
  const { channels = 3, maxPixels = IMAGE_LIMITS.maxPixels, name = 'image bytes' } = options;
  const header = checkImageHeader(bytes, name, maxPixels);
  let rgba: Uint8Array;
  try {
    rgba = header.format === 'png' ? await decodePng(bytes) : await decodeJpeg(bytes, header);
  } catch (error) {
    if (error instanceof XceptionImageError) throw error;
    throw new XceptionImageError(`${name}: a corrupt ${header.format.toUpperCase()} image (${(error as Error).message}).`, { cause: error });
  }
  if (rgba.length !== header.width * header.height * 4) {
    throw new XceptionImageError(`${name}: a corrupt ${header.format.toUpperCase()} image (its pixels do not fill the ${header.width}×${header.height} it declares).`);
  }
  return { width: header.width, height: header.height, channels, data: fromRgba(rgba, channels) };
}

async function decodePng(bytes: Uint8Array): Promise<Uint8Array> {
  const { PNG } = await importOptional<typeof import('pngjs')>('pngjs');
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
}

async function decodeJpeg(bytes: Uint8Array, header: ImageHeader): Promise<Uint8Array> {
  const jpeg = (await importOptional<{ default: typeof import('jpeg-js') }>('jpeg-js')).default;
  const pixels = header.width * header.height;
  // jpeg-js counts about 22 bytes a pixel for a colour JPEG (coefficients, component planes, the
  // RGBA output); the pixel cap already bounds the declared size, so its own limits follow that size
  // instead of refusing an image under the cap as "corrupt".
  const image = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: Math.ceil(pixels / 1e6) + 1,
    maxMemoryUsageInMB: Math.ceil((pixels * 32) / 2 ** 20) + 64,
  });
  if (image.width !== header.width || image.height !== header.height) {
    throw new Error(`decoded ${image.width}×${image.height}, but the header declares ${header.width}×${header.height}`);
  }
  return image.data;
}

/** RGBA → 1, 3 or 4 channels (1: Pillow's `L`, round(0.299 R + 0.587 G + 0.114 B)). */
function fromRgba(rgba: Uint8Array, channels: 1 | 3 | 4): Uint8Array {
  if (channels === 4) return rgba;
  const count = rgba.length / 4;
  const out = new Uint8Array(count * channels);
  for (let i = 0; i < count; i++) {
    const r = rgba[i * 4]!;
    const g = rgba[i * 4 + 1]!;
    const b = rgba[i * 4 + 2]!;
    if (channels === 3) {
      out[i * 3] = r;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = b;
    } else {
      out[i] = (r * 299 + g * 587 + b * 114 + 500) / 1000;
    }
  }
  return out;
}
