import type { Db } from '../../infrastructure/db/types.js'
import { ID_CHARS } from '../../kernel/ids.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { lastNameMatches } from './names.js'

/**
 * The public employer lookup: a credential by its number and its holder's
 * last name. The number is the body's certificate (member) number when staff
 * recorded one at issue (exact, any case), or the credential's id, as printed
 * on the certificate and wallet card (and LinkedIn's "Credential ID"), or its
 * URL, with a version URL answering "superseded" when a later version
 * replaced it.
 */

export type LookupStatus = 'valid' | 'expired' | 'revoked' | 'superseded'

export interface LookupAnswer {
  status: LookupStatus
  /** The credential's page (its one URL for life: it shows the current version). */
  url: string
  achievementName: string
  /** The end of the current version's period; null: it does not expire. */
  validUntil: string | null
  /** The version the number named, when it is not the current one (status superseded). */
  askedVersion: number | null
  currentVersion: number
  /** The current version's status: what "superseded" leads to. */
  currentStatus: Exclude<LookupStatus, 'superseded'>
}

const NUMBER = new RegExp(`^(?:[a-z]+://[^/]+/credentials/)?([${ID_CHARS}]{1,64})(?:/versions/([0-9]{1,9}))?/?$`)

/** The id (and version, for a version URL) a typed number names, if any: no wildcard, no prefix. */
export function parseNumber (number: string, urls: PublicUrls): { id: string, version?: number } | undefined {
  const text = number.trim()
  if (text.includes('://') && !text.startsWith(urls.base + '/')) return undefined
  const match = NUMBER.exec(text)
  if (match === null || match[1] === undefined) return undefined
  return { id: match[1], ...(match[2] !== undefined ? { version: Number(match[2]) } : {}) }
}

interface LookupRow {
  id: string
  recipientName: string
  achievementName: string
  revokedAt: Date | null
  currentValidUntil: Date | null
  currentVersion: number
  hiddenByHolderAt: Date | null
}

/**
 * The credential the number and last name name together, or undefined: an
 * unknown number, a wrong last name, a credential its holder made private and
 * a version that does not exist all answer the same.
 */
export async function lookupCredential (sql: Db, query: { number: string, lastName: string }, deps: { urls: PublicUrls, now: Date }): Promise<LookupAnswer | undefined> {
  const named = parseNumber(query.number, deps.urls)
  const certificateNumber = query.number.trim()
  if (named === undefined && certificateNumber === '') return undefined
  // Newest first: a number given twice (two achievements) finds the holder's latest.
  const rows = await sql<LookupRow[]>`
    select c.id, c.recipient_name as "recipientName", a.name as "achievementName", c.revoked_at as "revokedAt",
      c.current_valid_until as "currentValidUntil", c.current_version as "currentVersion", c.hidden_by_holder_at as "hiddenByHolderAt"
    from credentials c join achievements a on a.id = c.achievement_id
    where c.id = ${named?.id ?? ''} or (c.certificate_number is not null and lower(c.certificate_number) = lower(${certificateNumber}))
    order by (c.id = ${named?.id ?? ''}) desc, c.issued_at desc
    limit 10`
  // The holder's privacy switch: a hidden credential is not found, by anyone, here.
  const row = rows.find((r) => r.hiddenByHolderAt === null && lastNameMatches(r.recipientName, query.lastName))
  if (row === undefined) return undefined
  // A version named by URL counts only for the credential that URL names.
  if (named?.version !== undefined && row.id !== named.id) return undefined
  const version = (row.id === named?.id ? named.version : undefined) ?? row.currentVersion
  if (version < 1 || version > row.currentVersion) return undefined
  const currentStatus = row.revokedAt !== null
    ? 'revoked'
    : row.currentValidUntil !== null && row.currentValidUntil.getTime() <= deps.now.getTime() ? 'expired' : 'valid'
  // A revoked credential is revoked whichever version is named.
  const status: LookupStatus = currentStatus !== 'revoked' && version < row.currentVersion ? 'superseded' : currentStatus
  return {
    status,
    url: deps.urls.credential(row.id),
    achievementName: row.achievementName,
    validUntil: row.currentValidUntil?.toISOString() ?? null,
    askedVersion: version === row.currentVersion ? null : version,
    currentVersion: row.currentVersion,
    currentStatus
  }
}
