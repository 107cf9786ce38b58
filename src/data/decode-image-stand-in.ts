/*
 * TEMPORARY stand-in for src/data/decode-image.ts (issue 22's decodeImageBytes,
 * same signature), until that lands on main: then imports switch to it and this
 * file goes.
 */
import { XceptionError } from '../errors.js';
import { importOptional } from '../platform/node-import.js';

/** Decoded pixels, row-major, `channels` bytes a pixel. @internal */
export interface DecodedPixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Decodes a PNG or JPEG into `channels` bytes a pixel, refusing more than `maxPixels`. @internal */
export async function decodeImageBytes(
  bytes: Uint8Array,
  options: { channels?: 1 | 3 | 4; maxPixels?: number; name?: string } = {},
): Promise<DecodedPixels> {
  const { channels = 3, maxPixels = 100_000_000, name = 'image bytes' } = options;
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) throw new XceptionError(`${name}: not a PNG or JPEG image.`);
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (isPng) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (bytes.length >= 24 && view.getUint32(16) * view.getUint32(20) > maxPixels) {
        throw new XceptionError(`${name}: the PNG declares ${view.getUint32(16)}×${view.getUint32(20)} pixels, over the pixel cap of ${maxPixels}.`);
      }
      const { PNG } = await importOptional<typeof import('pngjs')>('pngjs');
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      [rgba, width, height] = [new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height];
    } else {
      const jpeg = (await importOptional<{ default: typeof import('jpeg-js') }>('jpeg-js')).default;
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6 });
      [rgba, width, height] = [image.data, image.width, image.height];
    }
  } catch (error) {
    if (error instanceof XceptionError) throw error;
    throw new XceptionError(`${name}: a corrupt ${isPng ? 'PNG' : 'JPEG'} image (${(error as Error).message}).`);
  }
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    if (channels === 1) data[i] = Math.round(0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!);
    else for (let c = 0; c < channels; c++) data[i * channels + c] = rgba[4 * i + c]!;
  }
  return { width, height, channels, data };
}
