import { defineConfig } from 'vitest/config'

// Two projects: unit tests need no server; integration tests share one real Kafka broker
// (test/helpers/kafka-global-setup.ts) and use the embedded ClickHouse engine. Each test
// file runs in its own process (forks), because chDB allows one data folder per process.
export default defineConfig({
  test: {
    pool: 'forks',
    // Integration files share one broker and two cores: one file at a time.
    fileParallelism: false,
    // CI also writes a JSON report; .ci/run prints its totals as the closing line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: '.ci/test-results.json' } : undefined,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/kafka-global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
})
