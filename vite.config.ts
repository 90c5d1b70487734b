import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { cspHeader, cspMeta } from './scripts/csp.mjs';

// COOP/COEP make the page cross-origin isolated so SharedArrayBuffer (WASM threads) is available.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The built index.html carries the policy itself, so it holds wherever dist/ is hosted (the dev
 * server's React refresh needs an inline script, so only builds get it). */
const cspInBuild: Plugin = {
  name: 'edge-llm-csp',
  apply: 'build',
  transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: cspMeta() }, injectTo: 'head-prepend' }],
};

export default defineConfig({
  plugins: [
    react(),
    cspInBuild,
    // The service worker precaches the app shell, the WASM kernels and the bundled demo model, so
    // the app works offline after one visit. Downloaded models live in IndexedDB, not the Cache API.
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script',
      includeAssets: ['icons/icon.svg'],
      manifest: {
        name: 'Edge LLM — models in your browser',
        short_name: 'Edge LLM',
        description: 'Chat with GGUF language models running entirely on this device (WebGPU or WASM).',
        start_url: '.',
        scope: '.',
        display: 'standalone',
        background_color: '#f6f7f9',
        theme_color: '#2456d6',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,wasm,gguf,json,png,svg,webmanifest}'],
        // WebLLM (~6 MB) costs nothing until chosen: not precached, but kept once it has been used,
        // so a WebLLM set up online keeps working offline
        globIgnores: ['**/webllm-*.js'],
        runtimeCaching: [{ urlPattern: /\/assets\/webllm-[^/]*\.js$/, handler: 'CacheFirst', options: { cacheName: 'edge-llm-webllm-code' } }],
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        navigateFallback: 'index.html',
        clientsClaim: true,
        skipWaiting: true,
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  server: { headers: isolation },
  preview: { headers: { ...isolation, 'Content-Security-Policy': cspHeader() } },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // a name the service worker can tell apart (see globIgnores)
    rollupOptions: { output: { chunkFileNames: (c) => (c.moduleIds.some((m) => m.includes('@mlc-ai/web-llm')) ? 'assets/webllm-[hash].js' : 'assets/[name]-[hash].js') } },
  },
});
