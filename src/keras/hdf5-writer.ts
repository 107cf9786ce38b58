import { XceptionConfigError } from '../errors.js';
import { importOptional } from '../platform/node-import.js';

/*
 * Writing HDF5 goes through h5wasm (the HDF5 C library compiled to
 * WebAssembly, an optional peer dependency): files are built in its
 * in-memory file system and read back as bytes, in Node and in browsers.
 */

/** What the writers need of an h5wasm group (or file). @internal */
export interface Hdf5WritableGroup {
  create_group(name: string): Hdf5WritableGroup;
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
  create_dataset(args: { name: string; data: unknown; shape?: number[] | null; dtype?: string | null }): unknown;
  get(name: string): unknown;
}

interface H5wasm {
  ready: Promise<{ FS: { readFile(path: string): Uint8Array; unlink(path: string): void } }>;
  File: new (path: string, mode: string) => Hdf5WritableGroup & { close(): void };
}

let counter = 0;

/** Runs `fill` on a new HDF5 file and returns the file's bytes. @internal */
export async function writeHdf5(what: string, fill: (file: Hdf5WritableGroup) => void): Promise<Uint8Array> {
  const h5wasm = await loadH5wasm(what);
  const { FS } = await h5wasm.ready;
  const path = `/xception-ts-${Date.now()}-${counter++}.h5`;
  try {
    const file = new h5wasm.File(path, 'w');
    try {
      fill(file);
    } finally {
      file.close();
    }
    return FS.readFile(path).slice();
  } finally {
    // Also after a failed fill: the in-memory file system must not keep half-written files.
    try {
      FS.unlink(path);
    } catch {
      // never created
    }
  }
}

/** The group at `path` under `root`, created with its parents where missing. @internal */
export function ensureGroup(root: Hdf5WritableGroup, path: string): Hdf5WritableGroup {
  let group = root;
  for (const part of path.split('/').filter(Boolean)) {
    group = (group.get(part) as Hdf5WritableGroup | null) ?? group.create_group(part);
  }
  return group;
}

async function loadH5wasm(what: string): Promise<H5wasm> {
  try {
    const module = await importOptional<H5wasm & { default?: H5wasm }>('h5wasm');
    return module.default ?? module;
  } catch (error) {
    throw new XceptionConfigError(
      `${what} writes HDF5 with h5wasm, an optional peer dependency that is not installed: npm install h5wasm ` +
        `(${(error as Error).message.slice(0, 120)}).`,
    );
  }
}
