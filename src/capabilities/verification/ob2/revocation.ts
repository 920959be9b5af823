import { isObject } from '../../../kernel/json.js'
import type { Check } from '../result.js'
import { failed, passed, unknown } from '../result.js'
import type { ReadDocument } from './documents.js'

/**
 * Whether an Open Badges 2.0 assertion was revoked: a hosted assertion says
 * so itself (`revoked: true`), and an issuer may publish a RevocationList
 * (Profile `revocationList`) whose `revokedAssertions` name assertions by id
 * (or, for signed ones, by `uid`). A list that cannot be read, or does not
 * say it is that list, is not "not revoked".
 */

type Json = Record<string, unknown>

const MAX_ENTRIES = 100_000

const reasonOf = (value: unknown): string => typeof value === 'string' && value.trim() !== '' ? ` (${value.trim()})` : ''

export async function checkOb2Revocation (assertion: Json, issuer: Json | undefined, signed: boolean, read: ReadDocument): Promise<Check> {
  if (assertion.revoked === true) return failed('status', `The issuer marks this assertion revoked${reasonOf(assertion.revocationReason)}.`, 'revoked')
  if (issuer === undefined) return unknown('status', 'The issuer profile could not be read, so its revocation list is not known.')
  const listUrl = issuer.revocationList
  if (listUrl === undefined) {
    return passed('status', signed
      ? 'The issuer publishes no revocation list, and nothing else can revoke a signed assertion.'
      : 'The hosted assertion is not marked revoked, and the issuer publishes no revocation list.')
  }
  if (typeof listUrl !== 'string') return failed('status', 'The issuer\'s "revocationList" is not a URL.')
  const fetched = await read(listUrl, 'revocation list')
  if (!fetched.ok) return unknown('status', fetched.message)
  const list = fetched.document
  if (list.id !== listUrl) return unknown('status', `The revocation list at ${listUrl} says its "id" is "${String(list.id)}".`)
  const entries = list.revokedAssertions
  if (!Array.isArray(entries) || entries.length > MAX_ENTRIES) return unknown('status', `The revocation list at ${listUrl} has no readable "revokedAssertions".`)
  const names = new Set([assertion.id, assertion.uid].filter((v): v is string => typeof v === 'string'))
  const entry = entries.find((e) => typeof e === 'string' ? names.has(e) : isObject(e) && ((typeof e.id === 'string' && names.has(e.id)) || (typeof e.uid === 'string' && names.has(e.uid))))
  if (entry !== undefined) return failed('status', `The issuer's revocation list names this assertion${reasonOf(isObject(entry) ? entry.revocationReason : undefined)}.`, 'revoked')
  return passed('status', `The assertion is not on the issuer's revocation list (${listUrl}).`)
}
