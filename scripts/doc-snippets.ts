/*
 * Code blocks of the README and the guides, as programs: extraction and the
 * conventions that scripts/check-doc-snippets.ts applies.
 *
 * - Every ```ts / ```typescript / ```js / ```javascript block is a complete
 *   program: it is type-checked with tsc --strict against the built package.
 * - `<!-- run -->` on the line before the fence also runs it (node + tsx,
 *   60 s limit): mark the short ones (wasm backend, small inputs).
 * - `<!-- no-check -->` before the fence exempts a deliberate fragment.
 */

/** One code block of a Markdown file. */
export interface DocSnippet {
  /** The Markdown file, as given. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** `ts` or `js`. */
  language: 'ts' | 'js';
  /** The block's text. */
  code: string;
  /** Marked `<!-- run -->`. */
  run: boolean;
  /** Marked `<!-- no-check -->`. */
  skip: boolean;
}

const LANGUAGES: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js' };

/** The TypeScript and JavaScript blocks of one Markdown text, in order. */
export function extractSnippets(file: string, markdown: string): DocSnippet[] {
  const lines = markdown.split('\n');
  const snippets: DocSnippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence!)) end++;
    const language = LANGUAGES[info!.toLowerCase()];
    if (language) {
      let before = i - 1;
      while (before >= 0 && lines[before]!.trim() === '') before--;
      const marker = before >= 0 ? lines[before]!.trim() : '';
      snippets.push({
        file,
        line: i + 1,
        language,
        code: lines.slice(i + 1, end).map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l)).join('\n'),
        run: marker === '<!-- run -->',
        skip: marker === '<!-- no-check -->',
      });
    }
    i = end;
  }
  return snippets;
}

/**
 * The program written for a snippet: its code, and `export {}` so that each
 * is a module of its own (top-level await, no shared globals).
 */
export function programOf(snippet: DocSnippet): string {
  return `${snippet.code}\nexport {};\n`;
}
