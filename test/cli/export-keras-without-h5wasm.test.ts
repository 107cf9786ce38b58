import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// Without h5wasm (an optional dependency) export-keras fails as an environment problem, exit 1 (it was 2, a usage error).
vi.mock('../../src/platform/node-import.js', async (original) => {
  const actual = await original<typeof import('../../src/platform/node-import.js')>();
  return {
    ...actual,
    importOptional: (specifier: string) =>
      specifier === 'h5wasm' ? Promise.reject(new Error("Cannot find package 'h5wasm'")) : actual.importOptional(specifier),
  };
});

const { run } = await import('../helpers/run-cli.js');

describe('export-keras without h5wasm', () => {
  it('exits 1, says npm install h5wasm, writes nothing', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'xception-ts-no-h5wasm-')), 'model.keras');
    const result = await run('export-keras', 'random', out, '--preset', 'tiny', '--input', '32,32,1', '--classes', '2');
    expect(result.code).toBe(1);
    expect(result.err).toBe('xception-ts: export-keras writes HDF5 with h5wasm, an optional dependency that is not installed: npm install h5wasm.');
    expect(existsSync(out)).toBe(false);
  });
});
