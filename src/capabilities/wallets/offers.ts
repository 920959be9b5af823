import { createHash, randomBytes, randomInt } from 'node:crypto'
import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { bindToWalletIn } from '../credentials/wallet/bind-to-wallet.js'
import type { IssuedCredential } from '../credentials/issue/issue-credential.js'
import type { ReissueDeps } from '../credentials/recertify/reissue-credential.js'
import { AppError } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { countRecentOffers, findWalletOfferByTokenHash, insertWalletOffer, lockWalletOffer, markWalletOfferDelivered, type WalletOfferRow } from './store.js'

/**
 * How long an offer lives. A portal offer is a QR code on the screen of a
 * signed-in holder: minutes. An email offer waits in an inbox: days, and an
 * OID4VCI transaction code (in the email's text, not in the link that mail
 * scanners and proxies see) guards it.
 */
export const OFFER_LIFETIME_MS = { portal: 15 * 60_000, email: 14 * 24 * 3600_000 } as const
/** At most this many offers per badge per hour (each is a signing job once used). */
export const OFFERS_PER_BADGE_PER_HOUR = 20
/** Wrong transaction codes or proofs tolerated before the offer is burnt. */
export const MAX_FAILED_ATTEMPTS = 5

/** Bearer secrets are kept only as their SHA-256 (hex). */
export function secretHash (secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

const randomToken = (): string => randomBytes(32).toString('base64url')

/**
 * The OID4VCI pre-authorised code of an offer, derived from its token: the
 * credential offer (fetched by reference with the token) can state it while
 * the database keeps neither in clear.
 */
export function preAuthorizedCodeFor (token: string): string {
  return createHash('sha256').update(`oid4vci-pre-authorized-code:${token}`, 'utf8').digest('base64url')
}

/** Every URL an offer is reached by, from its token (what the interaction URL names). */
export interface OfferUrls {
  /** The VC API "interact" URL the QR code holds; GET it for the protocols. */
  interaction: string
  /** The W3C VC API exchange (Learner Credential Wallet, LearnCard). */
  vcapiExchange: string
  /** The OID4VCI credential offer, by reference. */
  oid4vciOfferUri: string
  /** `openid-credential-offer://?credential_offer_uri=…` */
  oid4vciOffer: string
}

export function offerUrls (baseUrl: string, token: string): OfferUrls {
  const base = baseUrl.replace(/\/$/, '')
  const oid4vciOfferUri = `${base}/wallet/oid4vci/offers/${token}`
  return {
    interaction: `${base}/wallet/offers/${token}?iuv=1`,
    vcapiExchange: `${base}/wallet/exchanges/${token}`,
    oid4vciOfferUri,
    oid4vciOffer: `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(oid4vciOfferUri)}`
  }
}

export interface CreatedOffer {
  id: string
  token: string
  urls: OfferUrls
  expiresAt: Date
  /** The OID4VCI pre-authorised code (in the credential offer). */
  preAuthorizedCode: string
  /** The 6-digit OID4VCI transaction code, for email offers (said in the email's text). */
  txCode?: string
}

/**
 * Makes an offer of one credential to its holder's wallet. Refuses a revoked
 * credential and more than OFFERS_PER_BADGE_PER_HOUR offers of one badge.
 */
export async function createWalletOffer (deps: { sql: Sql, now: Date, baseUrl: string, actor: string }, request: { credentialId: string, holderEmail: string, channel: 'portal' | 'email', revoked: boolean }): Promise<CreatedOffer> {
  if (request.revoked) throw new AppError('credential_revoked', 'A revoked badge cannot be added to a wallet.')
  // The hourly limit is the holder's (the portal's button); an email's offer comes with an email staff caused.
  if (request.channel === 'portal') {
    const recent = await countRecentOffers(deps.sql, request.credentialId, new Date(deps.now.getTime() - 3600_000))
    if (recent >= OFFERS_PER_BADGE_PER_HOUR) throw new AppError('too_many_requests', `At most ${OFFERS_PER_BADGE_PER_HOUR} wallet offers of one badge an hour; try again later.`)
  }
  const token = randomToken()
  const preAuthorizedCode = preAuthorizedCodeFor(token)
  const txCode = request.channel === 'email' ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined
  const id = newId()
  const expiresAt = new Date(deps.now.getTime() + OFFER_LIFETIME_MS[request.channel])
  // Sent together (one round trip instead of two: every badge email makes an offer).
  await Promise.all([insertWalletOffer(deps.sql, {
    id,
    tokenHash: secretHash(token),
    credentialId: request.credentialId,
    holderEmail: request.holderEmail,
    channel: request.channel,
    createdAt: deps.now,
    expiresAt,
    txCodeHash: txCode === undefined ? null : secretHash(`${id}:${txCode}`),
    preAuthorizedCodeHash: secretHash(preAuthorizedCode)
  }), recordAuditEvent(deps.sql, { actor: deps.actor, action: 'wallet.offer_created', subjectType: 'credential', subjectId: request.credentialId, details: { offerId: id, channel: request.channel, expiresAt: expiresAt.toISOString() } })])
  return { id, token, urls: offerUrls(deps.baseUrl, token), expiresAt, preAuthorizedCode, ...(txCode !== undefined ? { txCode } : {}) }
}

/** Whether a transaction code is the offer's. */
export function txCodeMatches (offer: Pick<WalletOfferRow, 'id' | 'txCodeHash'>, txCode: string): boolean {
  return offer.txCodeHash !== null && offer.txCodeHash === secretHash(`${offer.id}:${txCode}`)
}

/** Refuses an offer that is used, expired or burnt by failed attempts (410, with what happened). */
export function assertOfferLive (offer: WalletOfferRow, now: Date): void {
  if (offer.deliveredAt !== null) throw new AppError('wallet_offer_used', 'This wallet offer has already been used: each offer delivers the badge once. Make a new one from your account.')
  if (offer.expiresAt.getTime() <= now.getTime()) throw new AppError('wallet_offer_expired', 'This wallet offer has expired. Make a new one from your account.')
  if (offer.failedAttempts >= MAX_FAILED_ATTEMPTS) throw new AppError('wallet_offer_used', 'This wallet offer was closed after too many failed attempts. Make a new one from your account.')
}

/** The live offer a token names: 404 for none, 410 for a used or expired one. */
export async function findLiveOffer (sql: Sql, token: string, now: Date): Promise<WalletOfferRow> {
  const offer = await findWalletOfferByTokenHash(sql, secretHash(token))
  if (offer === undefined) throw new AppError('wallet_offer_unknown', 'No wallet offer has this address.')
  assertOfferLive(offer, now)
  return offer
}

/**
 * Delivers an offer's badge to the wallet that proved control of `did`, in one
 * transaction: the offer is locked and checked again (a second wallet racing
 * on it gets 410), the credential is bound to the DID (a new version), the
 * offer is marked used, and both are audited.
 */
export async function deliverOffer (deps: ReissueDeps, offerId: string, did: string, protocol: 'vcapi' | 'oid4vci'): Promise<IssuedCredential> {
  return await deps.sql.begin(async (tx) => {
    const offer = await lockWalletOffer(tx, offerId)
    if (offer === undefined) throw new AppError('wallet_offer_unknown', 'No wallet offer has this address.')
    assertOfferLive(offer, deps.now)
    const bound = await bindToWalletIn(tx, { ...deps, actor: `holder:${offer.holderEmail}` }, offer.credentialId, { did, protocol, offerId })
    await markWalletOfferDelivered(tx, offerId, { at: deps.now, version: bound.version, protocol, did })
    await recordAuditEvent(tx, { actor: `holder:${offer.holderEmail}`, action: 'wallet.offer_delivered', subjectType: 'credential', subjectId: offer.credentialId, version: bound.version, details: { offerId, protocol, did, newVersion: bound.bound } })
    return { id: bound.id, url: bound.url, version: bound.version, credential: bound.credential, jwt: bound.jwt }
  }) as IssuedCredential
}
