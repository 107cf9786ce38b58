/*
 * Type-checks every TypeScript/JavaScript block of README.md and
 * docs/guides/*.md as a complete program (tsc --strict, against the built
 * package: run `npm run build` first) and runs those marked `<!-- run -->`.
 * Conventions: scripts/doc-snippets.ts.
 *
 *   npx tsx scripts/check-doc-snippets.ts [--no-run] [--run-all] [--timeout=S] [--report-only] [files…]
 *
 * --run-all runs every block that type-checks, marked or not (to measure them);
 * --timeout sets the run limit per block (default 60 s).
 *
 * Runs happen in the app that README's Install section creates, rebuilt in a
 * temporary folder (scripts/snippet-app.ts): `your-app/` beside `xception-ts/`,
 * its package.json as `npm init -y && npm pkg set type=module` leaves it, and
 * in its node_modules only what the Install section's `npm install` line names
 * (the packed files of xception-ts, the named peers) and their dependencies,
 * so a block that needs a peer the README does not install fails here too.
 * Each block runs as `npx tsx example.ts` there.
 *
 * Prints one line per failing block (file:line and the first errors) and
 * exits 1 if any failed (0 with --report-only).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { extractSnippets, programOf, type DocSnippet } from './doc-snippets.js';
import { createSnippetApp } from './snippet-app.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const noRun = args.includes('--no-run');
const reportOnly = args.includes('--report-only');
const runAll = args.includes('--run-all');
const timeoutSeconds = Number(args.find((a) => a.startsWith('--timeout='))?.slice('--timeout='.length) ?? 60);
const files = args.filter((a) => !a.startsWith('--'));
const markdown = files.length
  ? files
  : ['README.md', ...readdirSync(join(root, 'docs/guides')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/guides/${f}`)];

if (!existsSync(join(root, 'dist/index.d.ts'))) {
  console.error('check-doc-snippets: dist/ is missing; run `npm run build` first.');
  process.exit(2);
}

// Inside the package, so that `import … from 'xception-ts'` resolves to the built package (self-reference).
const work = join(root, '.doc-snippets');
rmSync(work, { recursive: true, force: true });
mkdirSync(work);
const snippets: (DocSnippet & { path: string })[] = [];
for (const file of markdown) {
  extractSnippets(file, readFileSync(join(root, file), 'utf8')).forEach((snippet, index) => {
    if (snippet.skip) return;
    const name = `${file.replace(/[/.]/g, '_')}_${String(index + 1).padStart(2, '0')}_L${snippet.line}.${snippet.language === 'ts' ? 'ts' : 'mts'}`;
    const path = join(work, name);
    writeFileSync(path, programOf(snippet));
    snippets.push({ ...snippet, path });
  });
}
// Backends the guides show that need hardware CI lacks (a CUDA GPU), so they are not installed here:
// their blocks are type-checked against the API the package re-exports (tfjs-node and tfjs-node-gpu
// re-export @tensorflow/tfjs). Such blocks cannot run here and must not be marked `<!-- run -->`.
const STAND_INS: Record<string, string> = { '@tensorflow/tfjs-node-gpu': '@tensorflow/tfjs', '@tensorflow/tfjs-node': '@tensorflow/tfjs' };
const resolvable = (name: string): boolean => {
  try {
    createRequire(join(root, 'package.json')).resolve(name);
    return true;
  } catch {
    return false;
  }
};
const standIns = Object.entries(STAND_INS).filter(([name]) => !resolvable(name));
if (standIns.length) {
  writeFileSync(
    join(work, 'stand-ins.d.ts'),
    standIns.map(([name, api]) => `declare module '${name}' {\n  export * from '${api}';\n}\n`).join(''),
  );
}
writeFileSync(
  join(work, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      strict: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'],
      types: ['node'], noEmit: true, skipLibCheck: true, allowJs: true, checkJs: true, esModuleInterop: true,
    },
    include: ['*.ts', '*.mts'],
  }),
);

const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', work], { encoding: 'utf8' });
const errors = new Map<string, string[]>();
for (const line of tsc.stdout.split('\n')) {
  const match = /^(.+?)\((\d+),\d+\): (error TS\d+: .*)$/.exec(line);
  if (!match) continue;
  const path = join(work, match[1]!.replace(/^.*\.doc-snippets\//, ''));
  errors.set(path, [...(errors.get(path) ?? []), `line ${match[2]}: ${match[3]}`]);
}

const app = noRun ? null : createSnippetApp(root, readFileSync(join(root, 'README.md'), 'utf8'));
if (app) console.log(`Runs in ${app.dir} (npm install ${app.installed.join(' ')}; type: ${app.type}).`);
let failed = 0;
for (const snippet of snippets) {
  const where = `${snippet.file}:${snippet.line}`;
  const typeErrors = errors.get(snippet.path);
  if (typeErrors) {
    failed++;
    console.log(`FAIL ${where} type-check (${typeErrors.length} error${typeErrors.length > 1 ? 's' : ''}): ${typeErrors.slice(0, 3).join(' | ')}`);
    continue;
  }
  if (!(snippet.run || runAll) || noRun) {
    console.log(`ok   ${where} type-checks${snippet.run ? ' (run skipped: --no-run)' : ''}`);
    continue;
  }
  const started = performance.now();
  const example = join(app!.dir, snippet.language === 'ts' ? 'example.ts' : 'example.mjs');
  writeFileSync(example, programOf(snippet));
  const tsx = join(root, 'node_modules/tsx/dist/cli.mjs'); // what `npx tsx` runs
  const result = spawnSync(process.execPath, [tsx, example], { cwd: app!.dir, encoding: 'utf8', timeout: timeoutSeconds * 1000 });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    console.log(`ok   ${where} type-checks and runs (${seconds} s)`);
  } else {
    failed++;
    const reason = result.error ? `${String(result.error.message)} (limit ${timeoutSeconds} s)` : (result.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? `exit ${result.status}`);
    console.log(`FAIL ${where} run (${seconds} s): ${reason}`);
  }
}
if (app) rmSync(app.root, { recursive: true, force: true });
console.log(`\n${snippets.length} blocks in ${markdown.length} files (${relative(root, work)}/): ${snippets.length - failed} ok, ${failed} failed.`);
process.exit(failed > 0 && !reportOnly ? 1 : 0);
