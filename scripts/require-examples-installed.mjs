// Exits with a one-line instruction instead of a module-resolution stack trace when an
// example's dependencies are not installed: `node scripts/require-examples-installed.mjs node-training`.
import { existsSync } from 'node:fs';

const missing = process.argv.slice(2).filter(
  (example) => !existsSync(new URL(`../examples/${example}/node_modules/xception-ts/package.json`, import.meta.url)),
);
if (missing.length > 0) {
  console.error(
    `examples/${missing.join(', examples/')}: dependencies not installed; run \`npm run build && npm run examples:install\` first ` +
      '(it installs the examples against the built package).',
  );
  process.exit(1);
}
