/// <reference types="vitest/config" />
// The district dashboard: built into dist/ and served by gocua-server under /dashboard/.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// `gocua-server serve`'s default address (README: GOCUA_LISTEN).
const API_TARGET = 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/dashboard/',
  plugins: [svelte(), svelteTesting()],
  resolve: {
    // Types generated from Rust (ts-rs) live with the field app's UI; imported, never copied.
    alias: { $bindings: decodeURIComponent(new URL('../ui/src/bindings', import.meta.url).pathname) },
  },
  clearScreen: false,
  server: {
    port: 5174,
    strictPort: true,
    // `npx vite` against a running `gocua-server serve`: the API stays same-origin through the
    // proxy, which also presents the server's own Origin (the login checks it).
    proxy: {
      '/dashboard/api': { target: API_TARGET, changeOrigin: true, headers: { origin: API_TARGET } },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    // The server's CSP (default-src 'self') forbids inline scripts: no module preload polyfill,
    // no inlined assets; Svelte's CSS is emitted as a file.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
