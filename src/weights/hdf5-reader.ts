import * as hdf5 from 'jsfive';
import { XceptionWeightsError } from '../errors.js';
import { boundChunkedReads, InflationBudget } from './hdf5-inflation-budget.js';

/*
 * A thin, defensive layer over jsfive: every failure of the parser (it throws
 * strings, RangeErrors, TypeErrors on corrupt input) becomes an
 * XceptionWeightsError that says which object could not be read, and float
 * data is read straight from the file buffer where the layout allows it.
 */

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const DATA_LAYOUT_MESSAGE = 8;
const ATTRIBUTE_INFO_MESSAGE = 0x15;
/** jsfive's names of the floating-point types (`<f4` is little-endian float32). */
const FLOAT_DTYPE = /^[<>|=]?f[248]$/;

/** `<i4` → `int32`, `|u1` → `uint8`, …, for messages. */
function describeDtype(dtype: unknown): string {
  const match = typeof dtype === 'string' ? /^[<>|=]?([iuf])(\d+)$/.exec(dtype) : null;
  if (match) return `${{ i: 'int', u: 'uint', f: 'float' }[match[1] as 'i' | 'u' | 'f']}${Number(match[2]) * 8}`;
  return typeof dtype === 'string' ? `'${dtype}'` : 'non-numeric (compound or string)';
}

/** A dataset found in the file: its path and shape, read on demand. @internal */
export interface Hdf5Dataset {
  path: string;
  shape: number[];
  /** Reads the values as float32, checking they lie inside the file. */
  readFloat32(): Float32Array;
}

/** The default of `maxInflatedBytes`: 1 GiB (KERAS_FILE_LIMITS.maxUncompressedBytes). @internal */
export const DEFAULT_MAX_INFLATED_BYTES = 2 ** 30;

/**
 * Read access to an HDF5 file's groups, attributes and float datasets. Its
 * gzip chunks together may inflate to at most `maxInflatedBytes`, counted as
 * they inflate; each chunk to at most its declared size. @internal
 */
export class Hdf5Reader {
  private readonly file: hdf5.File;
  private readonly inflation: InflationBudget;

  constructor(private readonly buffer: ArrayBuffer, private readonly label: string, maxInflatedBytes = DEFAULT_MAX_INFLATED_BYTES) {
    this.inflation = new InflationBudget(maxInflatedBytes, label);
    const head = new Uint8Array(buffer, 0, Math.min(8, buffer.byteLength));
    if (buffer.byteLength < 8 || HDF5_SIGNATURE.some((byte, i) => head[i] !== byte)) {
      throw new XceptionWeightsError(
        `${label} is not an HDF5 file: it does not start with the HDF5 signature (89 48 44 46 0d 0a 1a 0a)` +
          `${buffer.byteLength < 8 ? `; it is only ${buffer.byteLength} bytes long` : ''}.`,
      );
    }
    checkEndOfFile(buffer, label);
    this.file = guard(`${label}: cannot read the HDF5 superblock or root group`, () => new hdf5.File(buffer, label));
    boundAttributeSizes(this.file);
    boundChunkedReads((this.file as unknown as { _dataobjects?: object })._dataobjects);
  }

  /** Whether `path` names a group. */
  hasGroup(path: string): boolean {
    const node = this.tryGet(path);
    return node !== null && !(node instanceof hdf5.Dataset);
  }

  /** The names of a group's members, in file order. */
  keys(path: string): string[] {
    const group = this.group(path);
    return guard(`${this.label}: cannot list the members of ${path}`, () => [...group.keys]);
  }

  /** A group's attributes. */
  attrs(path: string): Record<string, unknown> {
    const node = path === '/' ? this.file : this.group(path);
    return guard(`${this.label}: cannot read the attributes of ${path}`, () => ({ ...node.attrs }));
  }

  /**
   * Whether a group keeps its attributes in HDF5's dense storage (a fractal
   * heap, used when they exceed 64 KB), which jsfive cannot read: its
   * attributes then look absent.
   */
  usesDenseAttributes(path: string): boolean {
    const node = path === '/' ? this.file : this.group(path);
    const objects = (node as unknown as { _dataobjects?: { msgs?: { get(key: string): number }[] } })._dataobjects;
    const info = objects?.msgs?.find((m) => m.get('type') === ATTRIBUTE_INFO_MESSAGE);
    if (!info) return false;
    const view = new DataView(this.buffer);
    const at = info.get('offset_to_message');
    if (!(at >= 0 && at + 12 <= view.byteLength)) return false;
    const heapAt = at + 2 + (view.getUint8(at + 1) & 1 ? 2 : 0); // version, flags, [max creation index]
    return heapAt + 8 <= view.byteLength && view.getBigUint64(heapAt, true) !== 0xffff_ffff_ffff_ffffn;
  }

  /** A dataset, or an error that names the missing path. */
  dataset(path: string): Hdf5Dataset {
    const node = this.tryGet(path);
    if (!(node instanceof hdf5.Dataset)) {
      throw new XceptionWeightsError(`${this.label}: no dataset at ${path}.`);
    }
    const shape = guard(`${this.label}: cannot read the shape of ${path}`, () => [...node.shape]);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new XceptionWeightsError(`${this.label}: dataset ${path} has an invalid shape ${JSON.stringify(shape)}.`);
    }
    return { path, shape, readFloat32: () => this.readFloat32(node, path, shape) };
  }

  private group(path: string): hdf5.Group {
    const node = path === '/' ? this.file : this.tryGet(path);
    if (node === null || node instanceof hdf5.Dataset) {
      throw new XceptionWeightsError(`${this.label}: no group at ${path}.`);
    }
    return node;
  }

  /**
   * Walks the path one member at a time (jsfive throws on a missing member).
   * Opened groups are kept: jsfive parses a group's links each time it opens
   * it, so walking `/layers/<n>/vars/<i>` for every weight of a large model
   * would parse `/layers` once per weight.
   */
  private tryGet(path: string): hdf5.Group | hdf5.Dataset | null {
    return guard(`${this.label}: cannot read ${path}`, () => {
      let node: hdf5.Group | hdf5.Dataset = this.file;
      let at = '';
      for (const part of path.split('/').filter(Boolean)) {
        if (node instanceof hdf5.Dataset || !node.keys.includes(part)) return null;
        at += `/${part}`;
        const opened = this.opened.get(at);
        node = opened ?? (node.get(part) as hdf5.Group | hdf5.Dataset);
        if (!opened && !(node instanceof hdf5.Dataset)) this.opened.set(at, node);
      }
      return node;
    });
  }

  private readonly opened = new Map<string, hdf5.Group>();

  private readFloat32(node: hdf5.Dataset, path: string, shape: number[]): Float32Array {
    const dtype = guard(`${this.label}: cannot read the type of ${path}`, () => node.dtype);
    if (typeof dtype !== 'string' || !FLOAT_DTYPE.test(dtype)) {
      throw new XceptionWeightsError(
        `${this.label}: dataset ${path} holds ${describeDtype(dtype)} values; weights are floating point ` +
          '(float16, float32 or float64), so this is not a weight file (or not one of this model).',
      );
    }
    const count = shape.reduce((n, d) => n * d, 1);
    const direct = this.contiguousFloat32(node, path, count);
    if (direct) return direct;
    const values = this.inflation.run(path, () => guard(`${this.label}: cannot read the data of ${path}`, () => node.value));
    if (!values || (values as ArrayLike<number>).length !== count) {
      throw new XceptionWeightsError(
        `${this.label}: dataset ${path} holds ${(values as ArrayLike<number> | null)?.length ?? 0} values, ` +
          `but its shape ${JSON.stringify(shape)} needs ${count}.`,
      );
    }
    return Float32Array.from(values as ArrayLike<number>);
  }

  /**
   * The fast path for what Keras writes: a contiguous little-endian float32
   * dataset, viewed (or copied, when unaligned) straight out of the buffer.
   * Returns null for any other layout, which jsfive then reads element by element.
   */
  private contiguousFloat32(node: hdf5.Dataset, path: string, count: number): Float32Array | null {
    if (guard(`${this.label}: cannot read the type of ${path}`, () => node.dtype) !== '<f4') return null;
    const objects = node._dataobjects as {
      find_msg_type?: (type: number) => { get(key: string): number }[];
    };
    const message = guard(`${this.label}: cannot read the layout of ${path}`, () => objects.find_msg_type?.(DATA_LAYOUT_MESSAGE)?.[0]);
    if (!message) return null;
    const view = new DataView(this.buffer);
    const at = message.get('offset_to_message');
    if (!(at >= 0 && at + 18 <= view.byteLength)) return null;
    const version = view.getUint8(at);
    const layoutClass = view.getUint8(at + 1);
    if ((version !== 3 && version !== 4) || layoutClass !== 1) return null;
    const address = Number(view.getBigUint64(at + 2, true));
    const bytes = count * 4;
    if (!(address + bytes <= this.buffer.byteLength)) {
      throw new XceptionWeightsError(
        `${this.label}: dataset ${path} claims ${count} float32 values (${bytes} bytes at offset ${address}), ` +
          `past the end of the ${this.buffer.byteLength}-byte file; the file is truncated or corrupt.`,
      );
    }
    return address % 4 === 0
      ? new Float32Array(this.buffer, address, count)
      : new Float32Array(this.buffer.slice(address, address + bytes));
  }
}

/**
 * The superblock records where the file ends; fewer bytes than that means a
 * truncated download or copy, even when the part a reader needs happens to
 * be intact. (Superblock versions 0–3 with 8-byte offsets, as HDF5 writes by
 * default; other layouts are left to the parser.)
 */
function checkEndOfFile(buffer: ArrayBuffer, label: string): void {
  const view = new DataView(buffer);
  if (buffer.byteLength < 48) {
    throw new XceptionWeightsError(`${label} is truncated: ${buffer.byteLength} bytes cannot hold an HDF5 superblock.`);
  }
  const version = view.getUint8(8);
  const [offsetSizeAt, endAt] = version === 0 ? [13, 40] : version === 1 ? [13, 44] : version <= 3 ? [9, 28] : [-1, -1];
  if (offsetSizeAt < 0 || view.getUint8(offsetSizeAt) !== 8) return;
  const end = view.getBigUint64(endAt, true);
  if (end > BigInt(buffer.byteLength)) {
    throw new XceptionWeightsError(
      `${label} is truncated: its superblock says it ends at byte ${end}, but only ${buffer.byteLength} bytes are there.`,
    );
  }
}

/**
 * Runs a jsfive call, turning whatever it throws into an XceptionWeightsError.
 * jsfive also console.warn()s about attribute types it cannot decode (printing
 * raw bytes of a corrupt file); those warnings are held back while it runs.
 */
function guard<T>(what: string, read: () => T): T {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return read();
  } catch (error) {
    if (error instanceof XceptionWeightsError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new XceptionWeightsError(`${what}; the file is corrupt or not a Keras weight file (${reason.slice(0, 200)}).`);
  } finally {
    console.warn = warn;
  }
}

const BOUNDED = Symbol('xception-ts: bounded attribute sizes');

/**
 * jsfive allocates an attribute's values from the element count its
 * dataspace declares, before reading them; a corrupt count of a few hundred
 * million then exhausts the heap and kills the process. Every element takes at
 * least one byte of the buffer it is read from, so a larger count can only be
 * corruption: refuse it up front. Applied once to jsfive's (shared) DataObjects
 * prototype, the first time a file is opened.
 */
function boundAttributeSizes(file: hdf5.File): void {
  const objects = (file as unknown as { _dataobjects?: object })._dataobjects;
  const proto = objects ? (Object.getPrototypeOf(objects) as Record<string | symbol, unknown>) : null;
  if (!proto || proto[BOUNDED] || typeof proto['_attr_value'] !== 'function') return;
  const attrValue = proto['_attr_value'] as (this: unknown, dtype: unknown, buf: ArrayBuffer, count: number, offset: number) => unknown;
  proto['_attr_value'] = function (this: unknown, dtype: unknown, buf: ArrayBuffer, count: number, offset: number) {
    const size = (buf as { byteLength?: number }).byteLength ?? (buf as unknown as { length: number }).length;
    if (!(Number.isSafeInteger(count) && count >= 0 && count <= size)) {
      throw new RangeError(`an attribute declares ${count} values but only ${size} bytes hold them`);
    }
    return attrValue.call(this, dtype, buf, count, offset);
  };
  proto[BOUNDED] = true;
}
