// Builds the parents' web app (web/) into dist/web, which the hub serves at / (src/http/web-routes.ts).
// No plugins: Vite 8's own transform (oxc) compiles Preact's JSX with the automatic runtime.
import { defineConfig } from 'vite';

// Resolved from this file, so `vite build --config web/vite.config.ts` works from any directory.
const here = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root: here,
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: {
    // Leaflet's package points at its UMD build; its ES module build bundles without CommonJS glue.
    alias: [{ find: /^leaflet$/, replacement: 'leaflet/dist/leaflet-src.esm.js' }],
  },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // Every browser that runs this app knows <link rel="modulepreload">: no polyfill code.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
  },
});
