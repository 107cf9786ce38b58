import { Unzlib } from 'fflate';
import * as hdf5 from 'jsfive';
import { XceptionWeightsError } from '../errors.js';

/*
 * jsfive inflates an HDF5 gzip chunk whole (pako.inflate), however far it
 * inflates, and allocates a chunked dataset from its declared shape before
 * reading a chunk: a few kB of file could take gigabytes. Here every read of
 * chunked data runs against the reader's budget: the dataset's declared size
 * must fit what is left of it, and each chunk is inflated as a stream, its
 * output counted as it comes out and cut off at the chunk's declared size or
 * at the budget, whichever comes first.
 */

/** What the gzip chunks of one HDF5 file may still inflate to. @internal */
export class InflationBudget {
  /** Bytes inflated so far. */
  used = 0;

  /**
   * @param limit - The most bytes all chunks of the file may inflate to.
   * @param label - The file, for messages.
   */
  constructor(readonly limit: number, readonly label: string) {}

  /** Runs `read` (a jsfive read of `path`'s data) with this budget applied to its chunks. */
  run<T>(path: string, read: () => T): T {
    installBoundedChunks();
    const outer = active;
    active = { budget: this, path, chunkBytes: Infinity };
    try {
      return read();
    } finally {
      active = outer;
    }
  }
}

/** The read in progress: its budget, dataset and the declared size of one chunk. */
let active: { budget: InflationBudget; path: string; chunkBytes: number } | null = null;

/** Input fed to the inflater at a time: deflate expands at most ~1032×, so one push yields ≤ ~4 MiB. */
const PUSH_BYTES = 4096;
/** HDF5's fletcher32 filter appends a 4-byte checksum to a chunk. */
const CHECKSUM_BYTES = 4;
const GZIP_FILTER = 1;
const INSTALLED = Symbol('xception-ts: bounded chunks');

/** Replaces jsfive's gzip filter and wraps its chunked reads, once per jsfive copy. */
function installBoundedChunks(): void {
  const filters = hdf5.Filters as Map<number, unknown> & { [INSTALLED]?: boolean };
  if (filters[INSTALLED]) return;
  filters.set(GZIP_FILTER, boundedInflate);
  filters[INSTALLED] = true;
}

/**
 * Bounds a chunked read before jsfive allocates it: `dataObjects` is the
 * dataset's jsfive DataObjects (their prototype is patched once, by the
 * reader, with {@link boundChunkedReads}).
 */
function checkChunkedRead(dataObjects: { shape: number[]; chunks: number[] | null; dtype: unknown }): void {
  const context = active;
  if (!context) return;
  const { budget, path } = context;
  const itemBytes = itemSize(dataObjects.dtype);
  const dataBytes = product(dataObjects.shape) * itemBytes;
  const chunkBytes = product(dataObjects.chunks ?? []) * itemBytes;
  const left = budget.limit - budget.used;
  if (!(dataBytes <= left && chunkBytes <= budget.limit)) {
    throw new XceptionWeightsError(
      `${budget.label}: dataset ${path} declares ${dataBytes} bytes in chunks of ${chunkBytes}, more than the ` +
        `${left} bytes left of maxUncompressedBytes (${budget.limit}); refusing to inflate it (raise maxUncompressedBytes for a larger file).`,
    );
  }
  context.chunkBytes = chunkBytes + CHECKSUM_BYTES;
}

/** A chunk's zlib stream, inflated 4 KiB of input at a time and cut at the chunk's size or the budget. */
function boundedInflate(buffer: ArrayBuffer): ArrayBuffer {
  const context = active;
  const input = new Uint8Array(buffer);
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Unzlib((data) => {
    total += data.length;
    if (context) {
      const { budget, path, chunkBytes } = context;
      if (total > chunkBytes) {
        throw new XceptionWeightsError(
          `${budget.label}: a gzip chunk of dataset ${path} inflates past ${chunkBytes} bytes, the size its dataset ` +
            'declares for one chunk: a decompression bomb or a corrupt file; stopped inflating it.',
        );
      }
      if (budget.used + total > budget.limit) {
        throw new XceptionWeightsError(
          `${budget.label}: the gzip chunks of the file inflate to more than maxUncompressedBytes (${budget.limit}) ` +
            `by dataset ${path}; stopped inflating (raise maxUncompressedBytes for a larger file).`,
        );
      }
    }
    parts.push(data);
  });
  if (input.length === 0) inflater.push(input, true);
  for (let at = 0; at < input.length; at += PUSH_BYTES) inflater.push(input.subarray(at, at + PUSH_BYTES), at + PUSH_BYTES >= input.length);
  if (context) context.budget.used += total;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out.buffer;
}

const BOUNDED = Symbol('xception-ts: bounded chunked reads');

/**
 * Wraps jsfive's chunked-data read (on its shared DataObjects prototype, as
 * `dataObjects` reaches it) with {@link checkChunkedRead}. @internal
 */
export function boundChunkedReads(dataObjects: object | undefined): void {
  const proto = dataObjects ? (Object.getPrototypeOf(dataObjects) as Record<string | symbol, unknown>) : null;
  if (!proto || proto[BOUNDED] || typeof proto['_get_chunked_data'] !== 'function') return;
  const read = proto['_get_chunked_data'] as (this: unknown, offset: number) => unknown;
  proto['_get_chunked_data'] = function (this: { shape: number[]; chunks: number[] | null; dtype: unknown }, offset: number) {
    checkChunkedRead(this);
    return read.call(this, offset);
  };
  proto[BOUNDED] = true;
}

/** Bytes per element of a jsfive dtype (`<f4` → 4); references and variable-length items take 16. */
function itemSize(dtype: unknown): number {
  const match = typeof dtype === 'string' ? /(\d+)$/.exec(dtype) : null;
  return match ? Number(match[1]) : 16;
}

function product(dims: number[]): number {
  return dims.reduce((n, d) => n * (Number.isFinite(d) && d >= 0 ? d : Infinity), 1);
}
