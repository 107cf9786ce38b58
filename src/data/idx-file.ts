import { Gunzip } from 'fflate';
import { XceptionDataError } from '../errors.js';

/*
 * The IDX format (Y. LeCun's, for MNIST and its successors Fashion-MNIST,
 * KMNIST and EMNIST): a big-endian header — two zero bytes, the element type
 * (0x08: unsigned byte), the number of dimensions — then one 32-bit size per
 * dimension, then the values, row-major. The files are usually gzipped.
 */

/** The values of one IDX file and its dimensions. @internal */
export interface IdxArray {
  dims: number[];
  values: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = { 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

/** The header of an IDX file, once `prefix` holds all of it (else undefined); checked against `maxBytes`. */
function readHeader(prefix: Uint8Array, name: string, maxBytes: number): { dims: number[]; offset: number; total: number } | undefined {
  if (prefix.length < 4) return undefined;
  if (prefix[0] !== 0 || prefix[1] !== 0) {
    throw new XceptionDataError(`${name} is not an IDX file: IDX files start with two zero bytes; got 0x${hex(prefix[0]!)} 0x${hex(prefix[1]!)}.`);
  }
  if (prefix[2] !== 0x08) {
    const type = TYPE_NAMES[prefix[2]!] ?? 'unknown';
    throw new XceptionDataError(`${name}: IDX element type 0x${hex(prefix[2]!)} (${type}) is not supported; images and labels must be unsigned bytes (0x08), as in MNIST.`);
  }
  const rank = prefix[3]!;
  if (rank < 1 || rank > 4) throw new XceptionDataError(`${name}: an IDX file of ${rank} dimensions; images have 3 (count, rows, columns) and labels 1.`);
  const offset = 4 + 4 * rank;
  if (prefix.length < offset) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, offset);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const total = offset + dims.reduce((a, b) => a * b, 1);
  if (total > maxBytes) {
    throw new XceptionDataError(`${name}: the IDX header declares [${dims.join(', ')}], ${total} bytes, above maxBytes (${maxBytes}); raise maxBytes if the file is genuine.`);
  }
  return { dims, offset, total };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function lengthError(name: string, dims: number[], offset: number, got: number): XceptionDataError {
  const declared = dims.reduce((a, b) => a * b, 1);
  return new XceptionDataError(`${name}: the IDX header declares [${dims.join(', ')}] (${declared} values), but ${got - offset} follow; the file is truncated or not IDX.`);
}

/**
 * Parses an IDX file, gzipped or not. The header is checked (IDX magic,
 * unsigned bytes, the declared size ≤ `maxBytes`) before the values are
 * allocated; a gzipped file is inflated in a stream and refused as soon as
 * it yields more than its header declares. @internal
 */
export function parseIdx(bytes: Uint8Array, name: string, maxBytes: number): IdxArray {
  if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) {
    const header = readHeader(bytes, name, maxBytes);
    if (!header) throw new XceptionDataError(`${name}: ${bytes.length} bytes are too short for an IDX header.`);
    if (bytes.length !== header.total) throw lengthError(name, header.dims, header.offset, bytes.length);
    return { dims: header.dims, values: bytes.subarray(header.offset) };
  }
  let pending: Uint8Array[] = [];
  let header: ReturnType<typeof readHeader>;
  let out: Uint8Array | undefined;
  let filled = 0;
  const gunzip = new Gunzip((chunk: Uint8Array) => {
    if (!out) {
      pending.push(chunk);
      const prefix = concat(pending);
      header = readHeader(prefix, name, maxBytes);
      if (!header) return;
      out = new Uint8Array(header.total);
      chunk = prefix;
      pending = [];
    }
    if (filled + chunk.length > out.length) throw lengthError(name, header!.dims, header!.offset, filled + chunk.length);
    out.set(chunk, filled);
    filled += chunk.length;
  });
  try {
    const step = 1 << 20;
    for (let start = 0; start < bytes.length; start += step) gunzip.push(bytes.subarray(start, start + step), start + step >= bytes.length);
  } catch (error) {
    if (error instanceof XceptionDataError) throw error;
    throw new XceptionDataError(`${name}: a corrupt gzip stream (${(error as Error).message}).`);
  }
  if (!out || !header) throw new XceptionDataError(`${name}: the gzipped data is too short for an IDX header.`);
  if (filled !== out.length) throw lengthError(name, header.dims, header.offset, filled);
  return { dims: header.dims, values: out.subarray(header.offset) };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
}
