import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The SPA is served by the Cody Batch server at "/"; `npm run dev` proxies the API to it.
const api = process.env.CODY_BATCH_DEV_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      // GraphiQL's React-compiler directives are harmless once bundled.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    proxy: {
      "/graphql": { target: api, ws: true },
      "/config.json": api,
      "/jobs/": { target: api, bypass: (req) => (req.url?.includes("/patch") ? undefined : "/index.html") },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    // A guard against a hanging test, never a speed assertion: the default (5 s) is about what a
    // file's first test takes to render on a loaded 2-core machine.
    testTimeout: 60_000,
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
