import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../helpers/backend.js';
import { run } from '../helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-ts-unix-'));
const SMALL = ['--input', '71,71,3', '--classes', '2'];
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

beforeAll(() => useBackend('cpu'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI as a real process (through tsx) under bash, for pipes and devices. */
function shell(script: string): { status: number | null; stdout: string; stderr: string } {
  const cli = `node --import tsx ${JSON.stringify(new URL('../../cli/main.ts', import.meta.url).pathname)}`;
  const result = spawnSync('bash', ['-c', script.replaceAll('CLI', cli)], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the CLI as a Unix tool', () => {
  it('--version prints the package version; help <command> prints that command', async () => {
    expect(await run('--version')).toEqual({ code: 0, out: manifest.version, err: '' });
    const help = await run('help', 'export-onnx');
    expect(help.code).toBe(0);
    expect(help.out.split('\n')[0]).toBe(
      'Usage: xception-ts export-onnx <weights.h5|model.keras|model.h5|random> <model.onnx> [--preset P] [--classes N] [--input H,W,C] [--no-top] [--output-stride 8|16|32] [--allow-small-input] [--batch N]',
    );
    expect((await run('convert', '--help')).out).toContain('--quantize float16|uint8');
    expect(await run('help', 'fit')).toEqual({
      code: 2,
      out: '',
      err: "xception-ts: help: unknown command \"fit\"; the commands are summary, convert, export-onnx, inspect, export-keras, classify, train.\nTry 'xception-ts --help'.",
    });
    const train = await run('help', 'train');
    expect(train.out.split('\n')[0]).toMatch(/^Usage: xception-ts train <folder \| idx:DIR> \[--preset P\] \[--input-size N\] .* \[--out DIR\] \[--resume\] \[--overwrite\]/);
    expect(train.out).toContain("--weights W           imagenet (the preset's ImageNet weights, Keras' no-top file), a Keras weights file, or none (default: none).");
  });

  it('refuses options that do not apply, naming them', async () => {
    expect((await run('summary', '--quantize', 'uint8')).err).toBe("xception-ts: summary does not take --quantize.\nTry 'xception-ts help summary'.");
    expect((await run('summary', '--batch', '2', '--json')).err).toBe("xception-ts: summary does not take --batch, --json.\nTry 'xception-ts help summary'.");
    expect((await run('export-onnx', 'random', join(dir, 'a.onnx'), '--quantize', 'float16')).code).toBe(2);
  });

  it('never writes an output over an input', async () => {
    const weights = join(dir, 'w.h5');
    writeFileSync(weights, 'not really weights');
    const same = await run('export-onnx', weights, weights, ...SMALL);
    expect(same.code).toBe(2);
    expect(same.err).toBe(
      `xception-ts: refusing to write the output file ${JSON.stringify(weights)} over the input ${JSON.stringify(weights)}; pick another path.\nTry 'xception-ts help export-onnx'.`,
    );
    const viaDots = await run('convert', weights, join(dir, '.', 'w.h5'));
    expect(viaDots.code).toBe(2);
    expect(readFileSync(weights, 'utf8')).toBe('not really weights');
  });

  it('reports a missing folder or a folder in the way in one line, exit 1', { timeout: 60_000 }, async () => {
    const missing = await run('export-onnx', 'random', join(dir, 'no', 'such', 'm.onnx'), ...SMALL);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`xception-ts: ${join(dir, 'no', 'such', 'm.onnx')}: no such file or directory (ENOENT)`);
    const folder = join(dir, 'folder.onnx');
    mkdirSync(folder);
    const inTheWay = await run('export-onnx', 'random', folder, ...SMALL);
    expect(inTheWay.code).toBe(1);
    expect(inTheWay.err).toBe(`xception-ts: ${folder}: illegal operation on a directory (EISDIR)`);
  });

  it('handles a closed pipe (EPIPE) and a full device (ENOSPC) without a stack trace', { timeout: 120_000 }, () => {
    const piped = shell('CLI summary | head -1; echo "status ${PIPESTATUS[0]}" >&2');
    expect(piped.stdout).toBe('Model: xception\n');
    expect(piped.stderr).toBe('status 0\n');
    const full = shell('CLI summary > /dev/full');
    expect(full.status).toBe(1);
    expect(full.stderr).toBe('xception-ts: cannot write to standard output: no space left on device (ENOSPC)\n');
  });
});
