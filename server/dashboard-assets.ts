// GET / and GET /assets/*: the dashboard's files, all from the package (uPlot from its npm
// package's dist/), read once at start. Nothing is fetched from a CDN: the page works offline.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Route } from './http.ts'

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'dashboard')
const UPLOT = dirname(createRequire(import.meta.url).resolve('uplot'))

const FILES: Record<string, { path: string; type: string }> = {
  'app.js': { path: join(HERE, 'app.js'), type: 'text/javascript; charset=utf-8' },
  'style.css': { path: join(HERE, 'style.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { path: join(UPLOT, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: join(UPLOT, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
}

// Scripts and styles only from this origin; no inline script; frames refused.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

export function dashboardAssets(): Record<string, Route> {
  const index = readFileSync(join(HERE, 'index.html'))
  const files = new Map(
    Object.entries(FILES).map(([name, f]) => [name, { body: readFileSync(f.path), type: f.type }]),
  )
  return {
    'GET /': async () => ({
      status: 200,
      body: index,
      contentType: 'text/html; charset=utf-8',
      headers: { 'content-security-policy': CSP, 'cache-control': 'no-cache' },
    }),
    'GET /favicon.ico': async () => ({ status: 204, body: '', contentType: 'image/x-icon' }),
    'GET /assets/*': async (request) => {
      const file = files.get(request.path.slice('/assets/'.length))
      if (!file) return { status: 404, body: { error: `no asset ${request.path}` } }
      return {
        status: 200,
        body: file.body,
        contentType: file.type,
        headers: { 'cache-control': 'no-cache' },
      }
    },
  }
}
