import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql } from 'postgres'
import type { StatusListDeps } from './service.js'
import type { KeyRing } from '../keys/key-ring.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { signList } from './service.js'
import { STATUS_LIST_REFRESH_MS } from './status-list-credential.js'
import { lockExpiringStatusLists, saveSignedStatusList } from './store.js'

const BATCH = 20

/**
 * Re-signs every status list whose signed credential has less than
 * STATUS_LIST_REFRESH_MS left, a batch per transaction. Rows another instance
 * is re-signing are skipped (FOR UPDATE SKIP LOCKED), so every instance can
 * run the task. Returns how many lists were re-signed.
 */
export async function resignExpiringStatusLists (deps: { sql: Sql, keyRing: KeyRing, urls: PublicUrls, now: Date } & Pick<StatusListDeps, 'dataIntegrity' | 'changes'>): Promise<number> {
  const threshold = new Date(deps.now.getTime() + STATUS_LIST_REFRESH_MS)
  let total = 0
  for (;;) {
    const count = await deps.sql.begin(async (tx) => {
      const lists = await lockExpiringStatusLists(tx, threshold, BATCH)
      for (const list of lists) {
        const { credential, validUntil } = await signList(deps, list)
        await saveSignedStatusList(tx, { id: list.id, bits: list.bits, version: list.version + 1, credential, signedAt: deps.now, validUntil }, deps.changes)
      }
      return lists.length
    }) as number
    total += count
    if (count < BATCH) return total
  }
}

/**
 * Runs resignExpiringStatusLists when the app is ready and then every
 * `intervalMs`. A list is valid for 30 days and re-signed with 15 left, so a
 * run missed for days still leaves every served list valid.
 */
export const statusListRefresh = fp(async (app: FastifyInstance, options: { intervalMs: number }) => {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const run = (): void => {
    running = running.then(async () => {
      const count = await resignExpiringStatusLists({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), dataIntegrity: app.dataIntegrity, changes: app.changes })
      if (count > 0) app.log.info({ count }, 'status lists re-signed')
    }).catch((error: unknown) => { app.log.error({ err: error }, 'status list refresh failed; will retry') })
  }
  app.addHook('onReady', async () => {
    run()
    timer = setInterval(run, options.intervalMs).unref()
  })
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })
}, { name: 'status-list-refresh' })
