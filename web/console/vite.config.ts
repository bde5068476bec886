import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// Characters Rollup would replace anyway, plus a leading "_" or ".":
// go:embed skips files whose names start with "_" or ".", so never emit one.
const unsafeChars = /[\u0000-\u001F"#$%&*+,:;<=>?[\]^`{|}\u007F]/g

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    Components({
      dts: 'src/components.d.ts',
      dirs: [], // only Element Plus is auto-resolved; our own components are imported explicitly
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      output: {
        sanitizeFileName: (name) => name.replace(unsafeChars, '_').replace(/^[_.]+/, ''),
      },
    },
  },
  server: {
    // `npm run dev` talks to a local `linli serve`; LINLI_DEV_API points it elsewhere.
    proxy: { '/api': process.env.LINLI_DEV_API ?? 'http://127.0.0.1:8080' },
  },
})
