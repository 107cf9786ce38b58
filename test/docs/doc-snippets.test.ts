import { describe, expect, it } from 'vitest';
import { extractSnippets, programOf } from '../../scripts/doc-snippets.js';

const markdown = [
  '# Title',
  '',
  '```ts',
  "import { createXception } from 'xception-ts';",
  '```',
  '',
  '<!-- run -->',
  '',
  '```typescript',
  'console.log(1);',
  '```',
  '',
  '```bash',
  'npm install xception-ts',
  '```',
  '<!-- no-check -->',
  '````js',
  'const a = 1;',
  '```',
  'still inside the four-backtick fence',
  '````',
  '1. A list item:',
  '   ```ts',
  '   const indented = true;',
  '   ```',
].join('\n');

describe('extractSnippets', () => {
  it('finds the ts/js blocks with their lines and markers, and skips other languages', () => {
    const snippets = extractSnippets('README.md', markdown);
    expect(snippets.map(({ line, language, run, skip }) => ({ line, language, run, skip }))).toEqual([
      { line: 3, language: 'ts', run: false, skip: false },
      { line: 9, language: 'ts', run: true, skip: false },
      { line: 17, language: 'js', run: false, skip: true },
      { line: 23, language: 'ts', run: false, skip: false },
    ]);
    expect(snippets[0]!.code).toBe("import { createXception } from 'xception-ts';");
    expect(snippets[2]!.code).toBe('const a = 1;\n```\nstill inside the four-backtick fence');
    expect(snippets[3]!.code).toBe('const indented = true;');
  });

  it('makes each block a module of its own', () => {
    const [first] = extractSnippets('README.md', markdown);
    expect(programOf(first!)).toBe("import { createXception } from 'xception-ts';\nexport {};\n");
  });
});
