import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from 'postgres'
import { normaliseEmail } from '../credentials/build-credential.js'
import { listCredentialsOfHolder } from '../credentials/store.js'
import type { Clock } from '../../kernel/time.js'
import { sendPortalEmail, type PortalMailDeps } from './portal-email.js'
import { insertSignInTokenWithinLimit, redeemSignInToken } from './store.js'

/** How long an emailed sign-in link works. */
export const SIGN_IN_LINK_MINUTES = 15
const HOUR_MS = 3600_000

export interface SignInDeps extends PortalMailDeps {
  sql: Sql
  clock: Clock
}

export type SignInOutcome = 'sent' | 'no credentials' | 'address limit'

/** Tokens are kept only as their SHA-256: the table alone signs nobody in. */
export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest()

/**
 * Sends a single-use sign-in link (256 random bits, 15 minutes) to an address
 * that holds at least one credential, at most `signInLinksPerAddressPerHour`
 * an hour. The caller answers the person the same way whatever this returns,
 * and runs it after answering, so neither the answer nor its timing tells
 * whether the address holds badges.
 */
export async function sendSignInLink (deps: SignInDeps, address: string): Promise<SignInOutcome> {
  const email = normaliseEmail(address)
  // The newest credential answers both "does this address hold any?" and whom to greet.
  const [newest] = await listCredentialsOfHolder(deps.sql, email, 1)
  if (newest === undefined) return 'no credentials'
  const now = deps.clock()
  const token = randomBytes(32).toString('base64url')
  const hash = hashToken(token)
  const stored = await insertSignInTokenWithinLimit(deps.sql, { hash, email, now, expiresAt: new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000) }, new Date(now.getTime() - HOUR_MS), deps.config.portal.signInLinksPerAddressPerHour)
  if (!stored) return 'address limit'
  await sendPortalEmail(deps, 'sign-in', email, `sign-in-${hash.subarray(0, 12).toString('hex')}`, {
    holderName: newest.recipientName,
    signInUrl: `${deps.urls.base}/account/sign-in?token=${token}`,
    minutes: SIGN_IN_LINK_MINUTES
  })
  return 'sent'
}

/** The address a token was sent to, if it is fresh and unused; it is used up either way it matched. */
export async function redeemSignInLink (sql: Sql, token: string, now: Date): Promise<string | undefined> {
  if (!/^[\w-]{43}$/.test(token)) return undefined
  return await redeemSignInToken(sql, hashToken(token), now)
}
