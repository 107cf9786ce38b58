import { defineConfig } from 'vitest/config';

// npm run test:browser: checks that need Debian's Chromium (/usr/bin/chromium).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest-browser.json' }]] : ['default'],
  },
});
