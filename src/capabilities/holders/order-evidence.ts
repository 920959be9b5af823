import type { Sql } from 'postgres'
import { isFetchableScheme } from '../../infrastructure/outbound/outbound.js'
import { fetchPastedCredential, FetchRefusedError } from '../verification/fetch-credential-url.js'
import type { CheckOutcome, CheckId, VerificationStatus } from '../verification/result.js'
import { verifyCredential, type Verifier } from '../verification/verify-credential.js'
import { saveEvidenceVerification, type OrderRow } from './store.js'

/**
 * Evidence on a badge order: the link of a badge the requester already holds
 * (an Open Badges 2.0 assertion from the body's previous provider, or any
 * credential link). The public form only stores the link; nothing is fetched
 * on an anonymous request. The link is verified when staff read the one order
 * (fresh: a badge revoked since the order was sent must not read valid when
 * staff decide), through the one outbound client, and the result is stored so
 * the queue shows the last one without fetching anything.
 */

export const EVIDENCE_URL_MAX = 2000

/** What staff see next to the order: the verify result's verdict, short. */
export interface EvidenceVerification {
  status: VerificationStatus
  notice: string | null
  checkedAt: string
  checks: Array<{ id: CheckId, result: CheckOutcome, message: string }>
  credential: { issuer?: { id?: string, name?: string }, achievement?: { name?: string }, recipient?: { name?: string }, validUntil?: string }
}

/** Why a link given on the form cannot be evidence, in the form's words; undefined when it can. */
export function evidenceUrlProblem (raw: string, allowLoopback: boolean): string | undefined {
  const wrong = 'The link to your current badge must be a web address starting with https://, like https://badges.example.org/assertions/123.'
  if (raw.length > EVIDENCE_URL_MAX) return `The link to your current badge is too long (at most ${EVIDENCE_URL_MAX} characters).`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return wrong
  }
  // http only for loopback under the development switch (OUTBOUND_ALLOW_LOOPBACK), as every outbound path.
  if (!isFetchableScheme(url, allowLoopback)) return wrong
  if (url.username !== '' || url.password !== '') return 'The link to your current badge must not contain a user name or password.'
  return undefined
}

export interface EvidenceDeps {
  sql: Sql
  verifier: Verifier
  now: Date
  allowLoopback: boolean
}

/**
 * Verifies an order's evidence link now and stores the result. Fails closed:
 * a link that cannot be fetched (unreachable, refused, not 200, too large or
 * slow) is indeterminate, never valid. Undefined for an order without one.
 */
export async function verifyOrderEvidence (deps: EvidenceDeps, order: OrderRow): Promise<EvidenceVerification | undefined> {
  if (order.evidenceUrl === null) return undefined
  const verification = await verifyLink(deps, order.evidenceUrl)
  await saveEvidenceVerification(deps.sql, order.id, { ...verification })
  return verification
}

async function verifyLink (deps: EvidenceDeps, url: string): Promise<EvidenceVerification> {
  const checkedAt = deps.now.toISOString()
  let text: string
  try {
    text = await fetchPastedCredential(url, { allowLoopback: deps.allowLoopback })
  } catch (error) {
    if (!(error instanceof FetchRefusedError)) throw error
    const message = `${error.message} Nothing about the badge is established; reading the order again retries.`
    return { status: 'indeterminate', notice: message, checkedAt, checks: [{ id: 'format', result: 'unknown', message }], credential: {} }
  }
  const result = await verifyCredential(parseFetched(text), { ...deps.verifier, now: deps.now })
  const { issuer, achievement, recipient, validUntil } = result.credential
  return {
    status: result.status,
    notice: result.notice ?? null,
    checkedAt: result.checkedAt,
    checks: result.checks.map(({ id, result, message }) => ({ id, result, message })),
    credential: {
      ...(issuer !== undefined ? { issuer } : {}),
      ...(achievement?.name !== undefined ? { achievement: { name: achievement.name } } : {}),
      ...(recipient !== undefined ? { recipient } : {}),
      ...(validUntil !== undefined ? { validUntil } : {})
    }
  }
}

/** A fetched document: JSON when it reads as JSON, else the text (a compact JWS or JWT); the verifier judges either. */
function parseFetched (text: string): unknown {
  const trimmed = text.trim()
  if (!trimmed.startsWith('{')) return trimmed
  try {
    return JSON.parse(trimmed) as unknown
  } catch {
    return trimmed
  }
}
