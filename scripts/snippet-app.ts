/*
 * The app that README's Install section creates, rebuilt for
 * scripts/check-doc-snippets.ts without the network: a temporary folder with
 * `xception-ts/` (a link to this checkout, so `../xception-ts/...` paths in the
 * README work) and `your-app/`, whose package.json is what `npm init -y` and
 * `npm pkg set type=module` leave, and whose node_modules holds what the
 * Install section's `npm install` line names: xception-ts as its tarball
 * would unpack (package.json "files"), each named package, and the
 * dependencies npm would install with them (dependencies and required peers,
 * transitively), as links into this checkout's node_modules. Nothing else:
 * a block that needs a package the README does not install fails to resolve it.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface SnippetApp {
  /** The temporary folder holding `xception-ts/` and `your-app/`. */
  root: string;
  /** `your-app/`, where the blocks run. */
  dir: string;
  /** The packages the Install section's `npm install` line names (besides the tarball). */
  installed: string[];
  /** `module` when the Install section runs `npm pkg set type=module`, else `commonjs`. */
  type: 'module' | 'commonjs';
}

interface PackageJson {
  name: string;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The Install section's commands: its `sh` blocks up to the next `## ` heading. */
function installCommands(readme: string): string {
  const start = readme.indexOf('\n## Install');
  if (start < 0) throw new Error('snippet-app: README.md has no "## Install" section.');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

export function createSnippetApp(checkout: string, readme: string): SnippetApp {
  const commands = installCommands(readme);
  const install = /npm install \.\.\/xception-ts\/xception-ts-[\w.-]+\.tgz((?:[ \t]+[@\w][\w@/.^~-]*)*)/.exec(commands);
  if (!install) throw new Error('snippet-app: the Install section has no `npm install ../xception-ts/xception-ts-<version>.tgz …` line.');
  const installed = install[1]!.trim().split(/\s+/).filter(Boolean);
  const type = /npm pkg set type=module/.test(commands) ? 'module' : 'commonjs';

  const root = mkdtempSync(join(tmpdir(), 'xception-ts-snippet-app-'));
  symlinkSync(checkout, join(root, 'xception-ts'));
  const dir = join(root, 'your-app');
  const modules = join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'your-app', version: '1.0.0', ...(type === 'module' ? { type } : {}), dependencies: Object.fromEntries(installed.map((n) => [n, '*'])) }, null, 2),
  );

  // xception-ts as its tarball unpacks: package.json and its "files".
  const own = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as PackageJson;
  const target = join(modules, 'xception-ts');
  mkdirSync(target);
  cpSync(join(checkout, 'package.json'), join(target, 'package.json'));
  for (const file of own.files ?? []) if (existsSync(join(checkout, file))) cpSync(join(checkout, file), join(target, file), { recursive: true });

  // The named packages and what npm installs with them, linked from the checkout's node_modules.
  const source = join(checkout, 'node_modules');
  const queue = [...installed, ...needs(own)];
  const linked = new Set<string>(['xception-ts']);
  while (queue.length) {
    const name = queue.shift()!;
    if (linked.has(name)) continue;
    linked.add(name);
    const from = join(source, name);
    if (!existsSync(join(from, 'package.json'))) {
      if (installed.includes(name)) throw new Error(`snippet-app: ${name} (named in the Install section) is not in node_modules; run npm ci.`);
      continue; // nested under the package that needs it: resolved from its real path
    }
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(realpathSync(from), join(modules, name));
    queue.push(...needs(JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as PackageJson));
  }
  return { root, dir, installed, type };
}

/** What npm installs with a package: its dependencies and its required (non-optional) peers. */
function needs(pkg: PackageJson): string[] {
  const peers = Object.keys(pkg.peerDependencies ?? {}).filter((name) => !pkg.peerDependenciesMeta?.[name]?.optional);
  return [...Object.keys(pkg.dependencies ?? {}), ...peers];
}
