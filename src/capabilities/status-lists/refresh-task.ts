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
 * is re-signing are skipped (FOR UPDATE SKIP LOCKED), so any number of
 * workers can run it. Returns how many lists were re-signed. It is the
 * status-list-refresh job (background-jobs.ts), on its cron (hourly by
 * default): a list is valid for 30 days and re-signed with 15 left, so runs
 * missed for days still leave every served list valid.
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
