import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The web app is served by the API server from web/dist; in development `npm run dev:web`
// proxies API calls to a server started with `npm start`.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/v1': 'http://127.0.0.1:8080',
      '/pay': 'http://127.0.0.1:8080',
      '/openapi.json': 'http://127.0.0.1:8080',
    },
  },
});
