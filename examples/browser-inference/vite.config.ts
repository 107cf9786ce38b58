import { defineConfig } from 'vite';

// Cross-origin isolation (COOP + COEP) gives the page SharedArrayBuffer, so the wasm backend
// can run its threaded SIMD build. Any server of dist/ must send the same two headers.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers: isolation },
  preview: { headers: isolation },
  // The production build is fully minified. tfjs-backend-wasm starts its worker threads from the
  // source text of its module factory (wasmFactoryThreadedSimd.toString()), which minifiers have
  // broken before (tensorflow/tfjs#4253); with tfjs 4.22 and Vite 7 it works, and test/e2e.test.mjs
  // checks it on every run (4 threads, the threaded SIMD binary, the right answer).
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
