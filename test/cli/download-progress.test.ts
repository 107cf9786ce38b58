import { describe, expect, it } from 'vitest';
import { progressLines } from '../../cli/download-progress.js';

const url = 'http://127.0.0.1/w.h5';

describe('the CLI download progress', () => {
  it('prints a line at each tenth of a known size and one at the end, however small the chunks', () => {
    const lines: string[] = [];
    const report = progressLines((line) => lines.push(line));
    const total = 108_300_000;
    for (let received = 65_536; received < total; received += 65_536) report({ url, receivedBytes: received, totalBytes: total, done: false });
    report({ url, receivedBytes: total, totalBytes: total, done: false });
    report({ url, receivedBytes: total, totalBytes: total, done: true });
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('   10 % (10.9 of 108.3 MB)');
    expect(lines[9]).toBe('  100 % (108.3 of 108.3 MB)');
    expect(lines[10]).toBe('  downloaded 108.3 MB.');
  });

  it('prints every 10 MB when the server sends no size', () => {
    const lines: string[] = [];
    const report = progressLines((line) => lines.push(line));
    for (let received = 1e6; received <= 25e6; received += 1e6) report({ url, receivedBytes: received, totalBytes: null, done: false });
    report({ url, receivedBytes: 25e6, totalBytes: null, done: true });
    expect(lines).toEqual(['  10.0 MB …', '  20.0 MB …', '  downloaded 25.0 MB.']);
  });
});
