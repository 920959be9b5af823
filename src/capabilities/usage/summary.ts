import type { Db } from '../../infrastructure/db/types.js'
import { USAGE_KINDS, type UsageKind } from './kinds.js'
import { findCounts } from './store.js'

export type UsageTotals = Record<UsageKind, number>

/** One day of the period: every kind, zero when nothing was counted. */
export interface UsageDay {
  day: string
  counts: UsageTotals
}

export interface UsageSummary {
  from: string
  to: string
  achievementId: string | null
  credentialId: string | null
  totals: UsageTotals
  /** Every day from `from` to `to`, in order, without gaps (a chart's x axis). */
  series: UsageDay[]
}

const DAY_MS = 86_400_000
const MAX_DAYS = 366

const zero = (): UsageTotals => Object.fromEntries(USAGE_KINDS.map((k) => [k, 0])) as UsageTotals
const dayOf = (date: Date): string => date.toISOString().slice(0, 10)

/**
 * The counts of a period, per kind and per day: for the staff API and the
 * console's dashboard. Either an explicit `from`/`to` (UTC days, inclusive),
 * or the last `days` days up to `now` (default 30). At most a year.
 */
export async function usageSummary (sql: Db, options: { achievementId?: string, credentialId?: string, from?: string, to?: string, days?: number, now?: Date }): Promise<UsageSummary> {
  const to = options.to ?? dayOf(options.now ?? new Date())
  const from = options.from ?? dayOf(new Date(Date.parse(`${to}T00:00:00Z`) - ((options.days ?? 30) - 1) * DAY_MS))
  const start = Date.parse(`${from}T00:00:00Z`)
  const end = Date.parse(`${to}T00:00:00Z`)
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) throw new RangeError('"from" must be a day on or before "to".')
  if ((end - start) / DAY_MS + 1 > MAX_DAYS) throw new RangeError(`A period is at most ${MAX_DAYS} days.`)
  const rows = await findCounts(sql, {
    from,
    to,
    ...(options.achievementId !== undefined ? { achievementId: options.achievementId } : {}),
    ...(options.credentialId !== undefined ? { credentialId: options.credentialId } : {})
  })
  const days = new Map<string, UsageTotals>()
  for (let t = start; t <= end; t += DAY_MS) days.set(dayOf(new Date(t)), zero())
  const totals = zero()
  for (const row of rows) {
    const day = days.get(row.day)
    if (day !== undefined) day[row.kind] += row.count
    totals[row.kind] += row.count
  }
  return {
    from,
    to,
    achievementId: options.achievementId ?? null,
    credentialId: options.credentialId ?? null,
    totals,
    series: [...days].map(([day, counts]) => ({ day, counts }))
  }
}
