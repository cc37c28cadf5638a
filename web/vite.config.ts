import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

/** Where `npm start` serves the Worker; the dev server forwards the API there. */
const KAI = process.env.KAI_URL ?? "http://127.0.0.1:8787";

/**
 * The dashboard: built to web/dist, which wrangler.toml's `[assets]` serves. `npm run dev:web`
 * runs Vite's dev server in front of `npm start`; it keeps the Host header, so the Worker's
 * Origin checks pass for cookie-authenticated requests and sockets.
 */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: {
      "/api": { target: KAI, ws: true },
      "/health": { target: KAI },
    },
  },
});
