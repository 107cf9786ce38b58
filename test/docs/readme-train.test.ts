import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pngBytes, patternPixel } from '../helpers/image-folder.js';

/*
 * check:snippets type-checks and runs TypeScript blocks; this runs the README's
 * "Train on your images" shell block as written (npx xception-ts → this
 * checkout's CLI), in a folder holding a generated ./photos.
 */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Train on your images'));
const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
const work = mkdtempSync(join(tmpdir(), 'readme-train-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("README's Train on your images", () => {
  it('runs as written: train prints the table, classify names a class', () => {
    ['cats', 'dogs'].forEach((name, label) => {
      mkdirSync(join(work, 'photos', name), { recursive: true });
      for (let i = 0; i < 30; i++) writeFileSync(join(work, 'photos', name, `${String(i).padStart(3, '0')}.png`), pngBytes(32, 32, 3, patternPixel(label, i + 1, 32)));
    });
    const lines = block.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const cli = ['--import', import.meta.resolve('tsx'), new URL('../../cli/main.ts', import.meta.url).pathname];
    const outputs = lines.map((line) => {
      expect(line).toMatch(/^npx xception-ts /);
      const args = line.replace(/^npx xception-ts /, '').split(/\s+/);
      const result = spawnSync(process.execPath, [...cli, ...args], { cwd: work, encoding: 'utf8', timeout: 100_000 });
      expect(result.status, `${line}\n${result.stderr}`).toBe(0);
      return result.stdout;
    });
    expect(outputs[0]).toMatch(/^\| *Params \| *Loss \| Val_Loss \| *ACC \| Val_ACC \| epochs \| minutes \| device \|\n\|[-:|]+\|\n\| *[\d,]+ \| \d\.\d{4} \|/);
    expect(outputs[1]).toMatch(/^\.\/photos\/cats\/001\.png:\n {2}1\. \d\.\d{4} {2}(cats|dogs) \(\d\)$/m);
    expect(readdirSync(work).sort()).toEqual(['photos', 'runs']); // nothing outside --out (and the input)
  }, 120_000);
});
