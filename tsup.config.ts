import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: ESM (.js + .d.ts) and CommonJS (.cjs + .d.cts).
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    external: [/^@tensorflow\//],
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
