// Minimal types for jsfive 0.4 (pure-JS HDF5 reader, no bundled types).
declare module 'jsfive' {
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    readonly dtype: string | unknown[];
    readonly attrs: Record<string, unknown>;
    readonly value: ArrayLike<number> | unknown[];
    readonly _dataobjects: unknown;
  }
  /** The chunk filters by HDF5 filter id (1: gzip, 2: shuffle, 3: fletcher32), shared by every file. */
  export const Filters: Map<number, (buffer: ArrayBuffer, itemsize: number, clientData?: unknown) => ArrayBuffer>;
}
