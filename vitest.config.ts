import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["catalog/**/*.test.ts", "sidecar/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["node_modules/**", "test/bench/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
