import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library and its ONNX subpath: ESM (.js + .d.ts) and CommonJS (.cjs + .d.cts).
    // Shared code goes to common chunks in both formats, so that the two entries share
    // one copy of each class (instanceof XceptionError works across them).
    entry: { index: 'src/index.ts', onnx: 'src/onnx/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    target: 'es2022',
    platform: 'neutral',
    external: [/^@tensorflow\//, /^onnxruntime-/, 'protobufjs'],
  },
  {
    // The command line (ESM only, Node).
    entry: { cli: 'cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node18',
    platform: 'node',
    external: [/^@tensorflow\//],
  },
]);
