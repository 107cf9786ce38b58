/*
 * Writes safetensors files for tests, independently of src/weights/safetensors.ts:
 * 8-byte little-endian header length, the JSON header (padded with spaces to
 * a multiple of 8, as the reference writer does), then the tensors' bytes in order.
 */

export interface TensorToWrite {
  name: string;
  dtype: 'F32' | 'F16' | 'I64';
  shape: number[];
  /** Values (F32/F16 from floats, I64 from integers). */
  data: ArrayLike<number>;
  /** Already-encoded little-endian bytes, used instead of `data`. */
  raw?: Uint8Array;
}

export function writeSafetensors(tensors: TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const t of tensors) {
    const bytes = encode(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    parts.push(bytes);
  }
  return assemble(JSON.stringify(header), parts);
}

/** A file from a raw header (any JSON text, lies included) and data. */
export function rawSafetensors(headerText: string, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  return assemble(headerText, [data], headerLength);
}

function assemble(headerText: string, parts: Uint8Array[], headerLength?: bigint): Uint8Array {
  let json = new TextEncoder().encode(headerText);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const total = 8 + json.length + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encode(t: TensorToWrite): Uint8Array {
  if (t.raw) return t.raw;
  const n = t.data.length;
  if (t.dtype === 'F32') {
    const out = new Uint8Array(4 * n);
    const view = new DataView(out.buffer);
    for (let i = 0; i < n; i++) view.setFloat32(4 * i, t.data[i]!, true);
    return out;
  }
  if (t.dtype === 'I64') {
    const out = new Uint8Array(8 * n);
    const view = new DataView(out.buffer);
    for (let i = 0; i < n; i++) view.setBigInt64(8 * i, BigInt(t.data[i]!), true);
    return out;
  }
  const out = new Uint8Array(2 * n);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) view.setUint16(2 * i, floatToHalf(t.data[i]!), true);
  return out;
}

/** number → IEEE binary16 bits (round to nearest even, for values in the normal/subnormal range). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** IEEE binary16 bits → number, written here independently of src/. */
function halfBitsToNumber(h: number): number {
  const sign = h >> 15 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** A float16 safetensors file rewritten as float32 (as the hub stores timm checkpoints); other dtypes kept. */
export function widenToFloat32(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const metadata = (header['__metadata__'] as unknown as Record<string, string>) ?? {};
  delete header['__metadata__'];
  const start = 8 + n;
  const tensors = Object.entries(header)
    .sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0])
    .map(([name, e]): TensorToWrite => {
      const [b, end] = e.data_offsets;
      if (e.dtype !== 'F16') return { name, dtype: e.dtype as 'I64', shape: e.shape, data: [], raw: file.slice(start + b, start + end) };
      const data = new Float32Array((end - b) / 2);
      for (let i = 0; i < data.length; i++) data[i] = halfBitsToNumber(view.getUint16(start + b + 2 * i, true));
      return { name, dtype: 'F32', shape: e.shape, data };
    });
  return writeSafetensors(tensors, metadata);
}
