// A long-running command (ingest, start) owns the store: it opens it, applies migrations,
// serves the local HTTP endpoint and records itself in the instance file so that other
// commands find it. close() undoes all of that, in reverse order.

import { mkdirSync } from 'node:fs'
import { Registry } from 'prom-client'
import { StoreLockedError } from '../lib/errors.ts'
import { resolveAuth } from '../server/auth.ts'
import { dashboardApi } from '../server/dashboard-api.ts'
import { dashboardAssets } from '../server/dashboard-assets.ts'
import { deploymentRoutes } from '../server/deploy-routes.ts'
import { experimentRoutes } from '../server/experiment-routes.ts'
import type { Route } from '../server/http.ts'
import { type LocalServer, startLocalServer } from '../server/http.ts'
import { sessionRoutes } from '../server/session-routes.ts'
import { sqlRoute } from '../server/sql-route.ts'
import { createTelemetry, type Telemetry } from '../server/telemetry.ts'
import { verdictRoute } from '../server/verdict-route.ts'
import {
  ensureLocalToken,
  readInstanceFile,
  removeInstanceFile,
  storeLockedError,
  writeInstanceFile,
} from '../store/instance.ts'
import { migrate } from '../store/migrate.ts'
import { embeddedDataDir, type Store } from '../store/store.ts'
import { type AppContext, openStore } from './context.ts'

/**
 * A short-lived command (`driftwatch sql` or `deploy` with no instance running) may hold the
 * embedded folder for a moment: wait for it rather than fail. A folder held by a recorded
 * long-running owner fails at once, naming it.
 */
async function openWhenFree(ctx: AppContext, waitMs = 20_000): Promise<Store> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      return await openStore(ctx)
    } catch (error) {
      const heldBriefly = error instanceof StoreLockedError && error.owner === undefined
      if (!heldBriefly || Date.now() > deadline) throw error
      ctx.log.debug('embedded store busy with a short-lived command; waiting', { error: error.message })
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

export interface OwnedStore {
  store: Store
  server: LocalServer
  /** /metrics of this process: hand it the ingest service and job reports it should count. */
  telemetry: Telemetry
  close(): Promise<void>
}

export async function ownStore(
  ctx: AppContext,
  command: string,
  routes: Record<string, Route> = {},
): Promise<OwnedStore> {
  // Announce the owner before opening: short-lived commands that start now wait for its
  // endpoint instead of grabbing the folder, so a busy `sql` loop cannot starve the owner.
  const embedded = !ctx.config.clickhouse.url
  const dataDir = embeddedDataDir(ctx.config.clickhouse, ctx.io.cwd)
  const startedAt = new Date().toISOString()
  // Before anything opens or listens: a non-loopback bind without tokens stops here.
  const auth = resolveAuth(ctx.config.server, ctx.io.env, () => ensureLocalToken(dataDir))
  if (embedded) {
    mkdirSync(dataDir, { recursive: true })
    const current = readInstanceFile(dataDir)
    if (current && current.pid !== process.pid) throw storeLockedError(dataDir, current, undefined)
    writeInstanceFile(dataDir, { pid: process.pid, command, started_at: startedAt })
  }
  let store: Store
  try {
    store = await openWhenFree(ctx)
  } catch (error) {
    if (embedded) removeInstanceFile(dataDir)
    throw error
  }
  let server: LocalServer | undefined
  const telemetry = createTelemetry({
    registry: new Registry(),
    store,
    log: ctx.log,
    describe: { command, store: store.kind },
  })
  try {
    await migrate(store, ctx.log)
    server = await startLocalServer({
      host: ctx.config.server.host,
      port: ctx.config.server.port,
      log: ctx.log,
      auth,
      allowedHosts: ctx.config.server.allowed_hosts,
      allowedOrigins: ctx.config.server.allowed_origins,
      routes: {
        ...telemetry.routes(),
        ...dashboardAssets(),
        ...dashboardApi({ store, config: ctx.config, lag: () => telemetry.ingestLag(), log: ctx.log }),
        'POST /sql': sqlRoute(store, ctx.config.server.sql),
        'GET /verdict': verdictRoute(store, () => ctx.config.rules.map((r) => r.name), ctx.log),
        ...deploymentRoutes(store),
        ...experimentRoutes(store),
        ...sessionRoutes(auth),
        ...routes,
      },
    })
  } catch (error) {
    await store.close()
    if (embedded) removeInstanceFile(dataDir)
    throw error
  }
  if (store.kind === 'embedded') {
    writeInstanceFile(store.location, {
      pid: process.pid,
      command,
      url: server.url,
      started_at: startedAt,
    })
  }
  ctx.log.info('store ready', {
    store: store.kind,
    location: store.location,
    http: server.url,
    auth: auth.mode === 'local' ? 'local (writes need <data_dir>/token)' : Object.keys(auth.tokens).join(','),
  })
  const owned = server
  return {
    store,
    server: owned,
    telemetry,
    async close() {
      await owned.close()
      if (store.kind === 'embedded') removeInstanceFile(store.location)
      await store.close()
    },
  }
}
