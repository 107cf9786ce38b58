import { XceptionImageError } from '../errors.js';

/** What an image file's header declares, read before anything is decoded. @internal */
export interface ImageHeader {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether the bytes start like a PNG (`\x89PNG\r\n\x1a\n`). @internal */
export function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Whether the bytes start like a JPEG (the SOI marker `FF D8`). @internal */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8;
}

/**
 * Reads the declared width and height of a PNG (its IHDR chunk) or a JPEG (its
 * first SOF marker) without decoding any pixels: a few bytes, bounded time.
 * Also walks a PNG's chunk list, so that a truncated file is named as such here
 * instead of failing deep inside the decoder. @internal
 */
export function readImageHeader(bytes: Uint8Array, name: string): ImageHeader {
  if (isPng(bytes)) return readPngHeader(bytes, name);
  if (isJpeg(bytes)) return readJpegHeader(bytes, name);
  throw new XceptionImageError(`${name}: not a PNG or JPEG image.`);
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function readPngHeader(bytes: Uint8Array, name: string): ImageHeader {
  const data = view(bytes);
  const type = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 33 || type(12) !== 'IHDR') {
    throw new XceptionImageError(`${name}: a truncated or corrupt PNG (no IHDR chunk after the signature).`);
  }
  const width = data.getUint32(16);
  const height = data.getUint32(20);
  if (width === 0 || height === 0) throw new XceptionImageError(`${name}: a corrupt PNG (it declares ${width}×${height} pixels).`);
  // Chunk by chunk (length, type, data, CRC) up to IEND: only the headers are read.
  let at = 8;
  for (;;) {
    if (at + 8 > bytes.length) {
      throw new XceptionImageError(`${name}: a truncated PNG (the file ends after ${bytes.length} bytes, before its IEND chunk).`);
    }
    const length = data.getUint32(at);
    const chunk = type(at + 4);
    const end = at + 12 + length;
    if (end > bytes.length) {
      throw new XceptionImageError(`${name}: a truncated PNG (its ${chunk} chunk needs ${length} bytes; the file ends after ${bytes.length}).`);
    }
    if (chunk === 'IEND') break;
    at = end;
  }
  return { format: 'png', width, height };
}

function readJpegHeader(bytes: Uint8Array, name: string): ImageHeader {
  const data = view(bytes);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) break;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM and RST0–7.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI or start of scan before any frame header
    const length = data.getUint16(at + 2);
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 9 > bytes.length) break;
      const height = data.getUint16(at + 5);
      const width = data.getUint16(at + 7);
      if (width === 0 || height === 0) {
        throw new XceptionImageError(`${name}: a JPEG whose frame header declares ${width}×${height} pixels, which loadImage cannot read.`);
      }
      return { format: 'jpeg', width, height };
    }
    at += 2 + length;
  }
  throw new XceptionImageError(`${name}: a truncated or corrupt JPEG (no frame header with its size before the image data).`);
}
