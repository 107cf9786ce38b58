import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePngRgba, jpegDeclaring, patternRgba, pngDeclaring } from '../helpers/image-fixtures.js';
import { run } from '../helpers/run-cli.js';

// Hostile images (issue 21, rows 3, 7, 8): refused by their header or their size
// before anything is decoded or read, exit 1 with the library's one-line reason.
const dir = mkdtempSync(join(tmpdir(), 'xception-ts-classify-caps-'));
const SMALL = ['--weights', 'random', '--input', '71,71,3', '--classes', '4'];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refused(path: string): Promise<string> {
  const started = performance.now();
  const { code, out, err } = await run('classify', path, ...SMALL);
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(code).toBe(1);
  expect(out).toBe('');
  return err;
}

describe('xception-ts classify: image caps', () => {
  it('refuses a 69-byte PNG declaring 30000×30000 and a small JPEG declaring 11000×9000 by their headers', async () => {
    const png = join(dir, 'bomb.png');
    writeFileSync(png, pngDeclaring(30000, 30000));
    expect(await refused(png)).toBe(
      `xception-ts: ${png}: the PNG declares 30000×30000 = 900,000,000 pixels, over the pixel cap of 50,000,000 (maxPixels; IMAGE_LIMITS.maxPixels by default): nothing was decoded. Pass a larger maxPixels if the image is trusted.`,
    );
    const jpg = join(dir, 'bomb.jpg');
    writeFileSync(jpg, jpegDeclaring(11000, 9000));
    expect(await refused(jpg)).toContain(`xception-ts: ${jpg}: the JPEG declares 11000×9000 = 99,000,000 pixels, over the pixel cap of 50,000,000`);
  });

  it('refuses /dev/zero and a 300 MB (sparse) .png by stat, without reading them', async () => {
    expect(await refused('/dev/zero')).toBe('xception-ts: /dev/zero: not a regular file (a device, pipe or socket); loadImage reads PNG and JPEG files.');
    const junk = join(dir, 'junk.png');
    const fd = openSync(junk, 'w');
    ftruncateSync(fd, 300 * 2 ** 20);
    closeSync(fd);
    expect(await refused(junk)).toBe(
      `xception-ts: ${junk}: 314,572,800 bytes, over the file-size cap of 268,435,456 (maxBytes; IMAGE_LIMITS.maxBytes by default): nothing was read.`,
    );
  });

  it('names a truncated PNG as truncated (not pngjs’ own message)', async () => {
    const bytes = encodePngRgba(patternRgba(40, 30), 40, 30);
    const cut = join(dir, 'cut.png');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 30));
    expect(await refused(cut)).toMatch(/^xception-ts: .*cut\.png: a truncated PNG \(its IDAT chunk needs \d+ bytes; the file ends after \d+\)\.$/);
  });
});
