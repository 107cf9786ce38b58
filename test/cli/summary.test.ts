import { beforeAll, describe, expect, it } from 'vitest';
import { createXception } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

describe('model.summary()', () => {
  it.each(['keras', 'postact'] as const)("'%s' with 100 classes matches the snapshot", async (preset) => {
    const model = createXception({ preset, numClasses: 100 });
    const lines: string[] = [];
    model.summary(120, undefined, (line: string) => lines.push(line));
    model.dispose();
    await expect(lines.join('\n') + '\n').toMatchFileSnapshot(`./__snapshots__/summary-${preset}-100.txt`);
    expect(lines).toContain('Total params: 21066380');
  });
});
