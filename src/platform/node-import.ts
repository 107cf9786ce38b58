/** Whether this runs in Node (and may use its built-ins). @internal */
export function isNode(): boolean {
  return typeof process !== 'undefined' && Boolean(process.versions?.node);
}

/**
 * Imports a Node built-in (`node:fs/promises`, …) at run time, in code paths
 * that only run in Node. The specifier is a variable so that browser bundlers
 * (webpack, Vite, esbuild) leave it alone instead of failing to resolve a Node
 * module for a browser build. @internal
 */
export function importNode<T>(specifier: `node:${string}`): Promise<T> {
  return importOptional<T>(specifier);
}

/**
 * Imports an optional npm package at run time (e.g. `onnxruntime-node`), with
 * a variable specifier so that bundlers do not require it to be installed.
 * @internal
 */
export function importOptional<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}
