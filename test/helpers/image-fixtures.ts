// Small PNG/JPEG fixtures built at test time, including hostile ones that
// declare far more pixels than they hold.
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A w×h RGBA image whose pixel i is (i·7, i·13, i·29, 255) mod 256. */
export function patternRgba(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256, 255], i * 4);
  return data;
}

export function encodePngRgba(data: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(data);
  return new Uint8Array(PNG.sync.write(png));
}

export function encodeJpegRgba(data: Uint8Array, width: number, height: number, quality = 100): Uint8Array {
  return new Uint8Array(jpeg.encode({ data: Buffer.from(data), width, height }, quality).data);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A valid-looking PNG (signature, IHDR, one IDAT of a few zlib bytes, IEND, good CRCs)
 * that declares width×height RGB pixels it does not hold: 69 bytes for 30000×30000.
 */
export function pngDeclaring(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, adaptive filtering, no interlace
  const idat = new Uint8Array(deflateSync(new Uint8Array(4)));
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  return Buffer.concat(parts);
}

/** A real small JPEG whose frame header (SOF0) is rewritten to declare width×height. */
export function jpegDeclaring(width: number, height: number): Uint8Array {
  const bytes = encodeJpegRgba(patternRgba(8, 8), 8, 8, 50);
  for (let at = 2; at < bytes.length; ) {
    const marker = bytes[at + 1]!;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (marker === 0xc0) {
      new DataView(bytes.buffer, bytes.byteOffset).setUint16(at + 5, height);
      new DataView(bytes.buffer, bytes.byteOffset).setUint16(at + 7, width);
      return bytes;
    }
    at += 2 + length;
  }
  throw new Error('no SOF0 in the encoded JPEG');
}
