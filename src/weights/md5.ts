/*
 * MD5 (RFC 1321), to check downloads against the checksums Keras publishes.
 * Node uses its native hash; elsewhere (browsers have no MD5 in WebCrypto)
 * this small implementation runs at a few hundred MB/s.
 */

import { importNode, isNode } from '../platform/node-import.js';

const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/** The MD5 of some bytes, as 32 lowercase hex digits. @internal */
export async function md5Hex(bytes: ArrayBuffer): Promise<string> {
  if (isNode()) {
    const { createHash } = await importNode<typeof import('node:crypto')>('node:crypto');
    return createHash('md5').update(new Uint8Array(bytes)).digest('hex');
  }
  return md5HexPortable(new Uint8Array(bytes));
}

/** The pure-JS MD5, exposed for tests against Node's. @internal */
export function md5HexPortable(data: Uint8Array): string {
  const length = data.length;
  const padded = new Uint8Array((((length + 8) >>> 6) + 1) << 6);
  padded.set(data);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, (length * 8) >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(length / 2 ** 29), true);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  const m = new Uint32Array(16);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(block + i * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      const shift = S[(i >>> 4) * 4 + (i % 4)]!;
      const sum = (a + f + K[i]! + m[g]!) >>> 0;
      a = d; d = c; c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) >>> 0;
    }
    a0 = (a0 + a) >>> 0; b0 = (b0 + b) >>> 0; c0 = (c0 + c) >>> 0; d0 = (d0 + d) >>> 0;
  }
  const out = new DataView(new ArrayBuffer(16));
  [a0, b0, c0, d0].forEach((word, i) => out.setUint32(i * 4, word, true));
  return Array.from(new Uint8Array(out.buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
