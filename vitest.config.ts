import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own gateway and database; files run in parallel forks.
    pool: 'forks',
    // After each file: the databases, data folders and gateways its helpers left behind.
    setupFiles: ['test/helpers/file-end.ts'],
  },
});
