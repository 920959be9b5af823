import { createHmac } from 'node:crypto'
import type { Db } from '../../infrastructure/db/types.js'
import { serviceSecret } from '../../infrastructure/db/service-secrets.js'
import { normaliseEmail } from '../credentials/build-credential.js'
import { listCredentialsOfHolder } from '../credentials/store.js'
import { submitCorrectionRequest } from '../holders/orders.js'
import type { Sql } from 'postgres'
import { ImsxError } from './imsx.js'
import { findProfileFields, latestRecipientName, saveProfileFields, type ProfileFields } from './store.js'

/**
 * GET/PUT /ims/ob/v3p0/profile: the holder's Open Badges Profile. Name and
 * email are the credentials' own (the name of the latest one, the address
 * they were issued to): changing them stays a staff correction, as in the
 * portal, so a PUT that changes one files correction requests and answers
 * 202. The few other fields (description, url, phone) are kept here.
 */

export interface ObProfile {
  id: string
  type: ['Profile']
  name?: string
  email: string
  description?: string
  url?: string
  phone?: string
}

/** A PUT body as the route's schema lets it through. */
export interface ProfileUpdate {
  id?: string
  name?: string
  email?: string
  description?: string
  url?: string
  phone?: string
}

/**
 * The profile's id: stable for the address, and not guessable by anyone
 * else (an HMAC under a secret of this service, shaped as a UUID), so a
 * platform can tell holders apart without learning who else is here.
 */
export async function profileId (sql: Db, holderEmail: string): Promise<string> {
  const secret = await serviceSecret(sql, 'open-badges-profile-id')
  const bytes = createHmac('sha256', secret).update(normaliseEmail(holderEmail), 'utf8').digest().subarray(0, 16)
  // RFC 9562 UUIDv8 (custom): version and variant bits set, the rest from the HMAC.
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export async function readProfile (sql: Db, holderEmail: string): Promise<ObProfile> {
  const [id, name, fields] = await Promise.all([profileId(sql, holderEmail), latestRecipientName(sql, holderEmail), findProfileFields(sql, holderEmail)])
  return {
    id,
    type: ['Profile'],
    ...(name === undefined ? {} : { name }),
    email: holderEmail,
    ...(fields.description === null ? {} : { description: fields.description }),
    ...(fields.url === null ? {} : { url: fields.url }),
    ...(fields.phone === null ? {} : { phone: fields.phone })
  }
}

export type ProfileOutcome =
  | { kind: 'unchanged' }
  | { kind: 'updated', profile: ObProfile }
  /** Name or email changes went to staff; `message` says what was filed. */
  | { kind: 'accepted', message: string }

/**
 * Applies a PUT: kept fields are replaced (an omitted one is cleared); a
 * changed name or email files a correction request on each of the holder's
 * credentials that are not revoked (one pending request per credential, as in
 * the portal: when both change, the name goes first and the email is asked
 * again once staff decided). An omitted name or email means "no change":
 * they cannot be cleared.
 */
export async function updateProfile (deps: { sql: Sql, now: Date }, holderEmail: string, update: ProfileUpdate, platform: string): Promise<ProfileOutcome> {
  const current = await readProfile(deps.sql, holderEmail)
  if (update.id !== undefined && update.id !== current.id) throw new ImsxError(400, `"id" must be this holder's profile id (${current.id}), as GET /profile gives it.`)
  const fields: ProfileFields = { description: blankToNull(update.description), url: blankToNull(update.url), phone: blankToNull(update.phone) }
  const keptChanged = fields.description !== (current.description ?? null) || fields.url !== (current.url ?? null) || fields.phone !== (current.phone ?? null)

  const name = update.name?.trim()
  const email = update.email === undefined ? undefined : normaliseEmail(update.email)
  const corrections: Array<{ field: 'name' | 'email', value: string }> = [
    ...(name !== undefined && name !== '' && name !== current.name ? [{ field: 'name' as const, value: name }] : []),
    ...(email !== undefined && email !== holderEmail ? [{ field: 'email' as const, value: email }] : [])
  ]
  if (!keptChanged && corrections.length === 0) return { kind: 'unchanged' }
  if (keptChanged) await saveProfileFields(deps.sql, holderEmail, fields, deps.now)
  const correction = corrections[0]
  if (correction === undefined) return { kind: 'updated', profile: await readProfile(deps.sql, holderEmail) }

  const credentials = (await listCredentialsOfHolder(deps.sql, holderEmail)).filter((c) => c.revokedAt === null)
  if (credentials.length === 0) throw new ImsxError(400, `A ${correction.field} change is a correction of the holder's badges, and they hold none that can be corrected.`)
  let filed = 0
  for (const credential of credentials) {
    const submitted = await submitCorrectionRequest(deps.sql, deps.now, { credential, field: correction.field, value: correction.value, note: `Asked through the Open Badges API (PUT /profile) by platform ${platform}.` })
    if ('id' in submitted) filed++
  }
  const waiting = credentials.length - filed
  const message = [
    `The ${correction.field} change was sent to staff as a correction request for ${filed} badge${filed === 1 ? '' : 's'}; the badges are reissued when staff approve it.`,
    ...(waiting > 0 ? [`${waiting} badge${waiting === 1 ? ' already has a request' : 's already have requests'} waiting for staff.`] : []),
    ...(corrections.length > 1 ? ['The email change can be asked once staff have decided the name change.'] : []),
    ...(keptChanged ? ['The other fields were saved.'] : [])
  ].join(' ')
  return { kind: 'accepted', message }
}

const blankToNull = (value: string | undefined): string | null => value === undefined || value.trim() === '' ? null : value.trim()
