import { defineConfig } from "vitest/config";

// End-to-end tests: one real `drumscribe serve` and one Chromium, steps in order.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
