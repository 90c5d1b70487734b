// Browser end-to-end tests against the built app (dist/): `vite build && vitest run --config e2e/vitest.config.ts`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // fails a file on any CSP violation
    setupFiles: ['e2e/csp-guard.ts'],
    // One Chromium at a time: the machine has 2 cores.
    fileParallelism: false,
  },
});
