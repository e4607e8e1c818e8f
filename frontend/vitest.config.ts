import { fileURLToPath } from "node:url";

import { defineConfig } from "vitest/config";

// Unit tests: plain functions and components rendered to HTML, no browser and no server.
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"],
    environment: "node",
  },
});
