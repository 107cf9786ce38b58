import { XceptionWeightsError } from '../errors.js';

/*
 * A reader of the safetensors format (huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name
 * to { dtype, shape, data_offsets: [begin, end] } (offsets into the data that
 * follows the header; an optional "__metadata__" map of strings), then the raw
 * little-endian data. Everything is checked before any value is read: the
 * header's size and syntax, every dtype, shape and range, and that the ranges
 * tile the data without overlap or gap (as the reference implementation
 * requires).
 */

/** The safetensors dtypes this reader knows, with their sizes in bytes. */
const DTYPE_BYTES = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
} as const;

/** A safetensors dtype name. @internal */
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** The floating-point dtypes whose values {@link SafetensorsFile.readFloat32} converts. */
const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** The largest header accepted (the reference implementation's limit, 100 MB). @internal */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's entry in the header, checked. @internal */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Element count (the product of `shape`). */
  readonly size: number;
  /** Byte range in the file (absolute offsets). */
  readonly begin: number;
  readonly end: number;
}

/** A parsed safetensors file: its entries, and a reader of their values. @internal */
export interface SafetensorsFile {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Whether the entry's dtype is a floating-point one. */
  isFloat(entry: SafetensorsEntry): boolean;
  /** The entry's values as float32 (F32 copied, F16/BF16/F64 converted). */
  readFloat32(entry: SafetensorsEntry): Float32Array;
}

/**
 * Parses and checks a safetensors file's header; values are read on demand.
 * @throws {@link XceptionWeightsError} naming what is wrong. @internal
 */
export function readSafetensors(bytes: ArrayBuffer, label: string): SafetensorsFile {
  const fail = (what: string) => new XceptionWeightsError(`${label} is not a valid safetensors file: ${what}.`);
  if (bytes.byteLength < 8) throw fail(`it has ${bytes.byteLength} bytes, fewer than the 8 of the header length`);
  const view = new DataView(bytes);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerBytes = high * 2 ** 32 + low;
  if (headerBytes > MAX_HEADER_BYTES) throw fail(`its header length ${headerBytes} is above the ${MAX_HEADER_BYTES} bytes allowed`);
  if (headerBytes < 2 || 8 + headerBytes > bytes.byteLength) {
    throw fail(`its header length ${headerBytes} does not fit in the file's ${bytes.byteLength} bytes`);
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes, 8, headerBytes));
    if (!text.startsWith('{')) throw new Error('it does not start with "{"');
    header = JSON.parse(text);
  } catch (error) {
    throw fail(`its header is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw fail('its header is not a JSON object');

  const dataStart = 8 + headerBytes;
  const dataLength = bytes.byteLength - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
        throw fail('"__metadata__" is not a map of strings');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    entries.set(name, checkEntry(name, value, dataStart, dataLength, fail));
  }
  // The ranges must tile the data: sorted by start, each begins where the previous ended.
  const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = dataStart;
  for (const entry of sorted) {
    if (entry.begin < cursor) throw fail(`tensor '${entry.name}' (bytes ${entry.begin - dataStart}–${entry.end - dataStart}) overlaps another`);
    if (entry.begin > cursor) throw fail(`bytes ${cursor - dataStart}–${entry.begin - dataStart} of the data belong to no tensor`);
    cursor = entry.end;
  }
  if (cursor !== bytes.byteLength) throw fail(`its last ${bytes.byteLength - cursor} bytes belong to no tensor`);

  return {
    entries,
    metadata,
    isFloat: (entry) => FLOAT_DTYPES.includes(entry.dtype),
    readFloat32: (entry) => readFloat32(bytes, entry, fail),
  };
}

function checkEntry(
  name: string,
  value: unknown,
  dataStart: number,
  dataLength: number,
  fail: (what: string) => XceptionWeightsError,
): SafetensorsEntry {
  const where = `tensor '${name}'`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail(`${where} is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
    throw fail(`${where} has dtype ${JSON.stringify(dtype)}; known dtypes are ${Object.keys(DTYPE_BYTES).join(', ')}`);
  }
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`${where} has shape ${JSON.stringify(shape)}; a shape is a list of at most 8 non-negative integers`);
  }
  let size = 1;
  for (const d of shape as number[]) {
    size *= d;
    if (size > dataLength) throw fail(`${where} has shape [${shape.join(', ')}], more elements than the file's ${dataLength} data bytes hold`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw fail(`${where} has data_offsets ${JSON.stringify(offsets)}; they must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    throw fail(`${where} has data_offsets [${begin}, ${end}], outside the ${dataLength} data bytes`);
  }
  const itemBytes = DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end - begin !== size * itemBytes) {
    throw fail(`${where} (${dtype}, shape [${shape.join(', ')}]) needs ${size * itemBytes} bytes but its data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], size, begin: dataStart + begin, end: dataStart + end };
}

function readFloat32(bytes: ArrayBuffer, entry: SafetensorsEntry, fail: (what: string) => XceptionWeightsError): Float32Array {
  if (entry.dtype === 'F32' && LITTLE_ENDIAN) return new Float32Array(bytes.slice(entry.begin, entry.end)); // a copy: also when unaligned
  const out = new Float32Array(entry.size);
  const view = new DataView(bytes, entry.begin, entry.end - entry.begin);
  switch (entry.dtype) {
    case 'F32':
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    case 'F16': {
      const table = halfTable();
      for (let i = 0; i < out.length; i++) out[i] = table[view.getUint16(2 * i, true)]!;
      return out;
    }
    case 'BF16': {
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < out.length; i++) {
        word.setUint32(0, view.getUint16(2 * i, true) << 16);
        out[i] = word.getFloat32(0);
      }
      return out;
    }
    default:
      throw fail(`tensor '${entry.name}' has dtype ${entry.dtype}, not a floating-point one`);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

let HALF_TABLE: Float32Array | null = null;

/** Every binary16 bit pattern's value (256 KB, built once): a lookup per element. */
function halfTable(): Float32Array {
  if (HALF_TABLE === null) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). @internal */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
