import { randomBytes, timingSafeEqual, createHash } from 'node:crypto'
import { CONTEXTS, STATIC_CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import type { DataIntegrity } from '../../infrastructure/signing/pool.js'
import runTask, { type VerifyResult, type VerifyTask } from '../../infrastructure/signing/tasks.js'
import { AppError } from '../../kernel/errors.js'
import { isObject } from '../../kernel/json.js'
import type { ReissueDeps } from '../credentials/recertify/reissue-credential.js'
import { DidKeyError, resolveDidKey } from './did-key.js'
import { deliverOffer, findLiveOffer, offerUrls } from './offers.js'
import { countFailedAttempt, setVcapiChallengeOnce, type WalletOfferRow } from './store.js'

/**
 * The W3C VC API exchange a wallet offer answers (VC API "Exchanges", the
 * DIDAuthentication query of the Verifiable Presentation Request spec), as
 * Learner Credential Wallet runs it (app/lib/exchanges.ts,
 * handleVcApiExchangeComplete):
 *
 *   1. the wallet POSTs `{}` to the exchange; the answer is a request for DID
 *      authentication, with a challenge (kept in the offer) and a domain;
 *   2. the wallet POSTs `{ verifiablePresentation }`: an empty presentation it
 *      signed with its did:key, for "authentication", with that challenge and
 *      domain; the answer is `{ verifiablePresentation }` holding the badge,
 *      bound to that DID.
 *
 * No HTTP here: the route hands over the token and the body.
 */

type Json = Record<string, unknown>

/** The proof suites a DID authentication may use: what LCW signs with, and the suite this service signs with. */
export const DID_AUTH_SUITES = {
  Ed25519Signature2020: 'Ed25519Signature2020',
  'eddsa-rdfc-2022': 'DataIntegrityProof/eddsa-rdfc-2022'
} as const

const ED25519_2020_CONTEXT = 'https://w3id.org/security/suites/ed25519-2020/v1'

/** The request for DID authentication (Verifiable Presentation Request, DIDAuthentication query). */
export interface DidAuthRequest {
  query: Array<{ type: 'DIDAuthentication', acceptedMethods: Array<{ method: 'key' }>, acceptedCryptosuites: Array<{ cryptosuite: string }> }>
  challenge: string
  domain: string
  interact: { service: Array<{ type: 'UnmediatedPresentationService2021', serviceEndpoint: string }> }
}

/**
 * The domain a wallet's proof must name: the service's public origin
 * (`https://badges.example.org`), as Digital Credentials Consortium's
 * exchanger states its exchange host there.
 */
export function exchangeDomain (publicBaseUrl: string): string {
  return new URL(publicBaseUrl).origin
}

export function buildDidAuthRequest (input: { challenge: string, domain: string, exchangeUrl: string }): DidAuthRequest {
  return {
    query: [{
      type: 'DIDAuthentication',
      acceptedMethods: [{ method: 'key' }],
      acceptedCryptosuites: Object.keys(DID_AUTH_SUITES).map((cryptosuite) => ({ cryptosuite }))
    }],
    challenge: input.challenge,
    domain: input.domain,
    // LCW posts its answer to the first service's endpoint (or, without one, to the URL it asked).
    interact: { service: [{ type: 'UnmediatedPresentationService2021', serviceEndpoint: input.exchangeUrl }] }
  }
}

/** A fresh challenge: 128 random bits, base64url. */
export const newChallenge = (): string => randomBytes(16).toString('base64url')

export type DidAuthOutcome = { ok: true, did: string } | { ok: false, message: string }

const refused = (message: string): DidAuthOutcome => ({ ok: false, message })

const asArray = (value: unknown): unknown[] => value === undefined ? [] : Array.isArray(value) ? value : [value]

function sameSecret (a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(a), digest(b))
}

/**
 * The presentation as jsonld-signatures checks it. LearnCard (SpruceKit) puts
 * the Ed25519Signature2020 context only in the proof, and the suite looks for
 * it at the top: it is added there, as Digital Credentials Consortium's
 * exchanger does (transaction-service, src/verifiablePresentation.ts). The
 * context only defines the suite's own terms, so the signed data is the same.
 */
function forVerification (presentation: Json, proof: Json): Json {
  const context = asArray(presentation['@context'])
  if (proof.type === 'Ed25519Signature2020' && asArray(proof['@context']).includes(ED25519_2020_CONTEXT) && !context.includes(ED25519_2020_CONTEXT)) {
    return { ...presentation, '@context': [...context, ED25519_2020_CONTEXT] }
  }
  return presentation
}

/**
 * Verifies a DID authentication: one proof, Ed25519Signature2020 or
 * eddsa-rdfc-2022, for "authentication", by a did:key (Ed25519, resolved
 * locally), answering `challenge` and `domain`, over a presentation whose
 * contexts the service holds (never fetched), whose `holder` (if named) is
 * the signer. Never throws for a bad presentation.
 */
export async function verifyDidAuthentication (presentation: unknown, expected: { challenge: string, domain: string, domainOptional?: boolean }, dataIntegrity?: Pick<DataIntegrity, 'run'>): Promise<DidAuthOutcome> {
  if (!isObject(presentation)) return refused('"verifiablePresentation" must be a JSON object.')
  if (!asArray(presentation.type).includes('VerifiablePresentation')) return refused('The presentation\'s "type" must include "VerifiablePresentation".')
  const context = asArray(presentation['@context'])
  if (context[0] !== CONTEXTS.credentialsV1 && context[0] !== CONTEXTS.credentialsV2) return refused(`The presentation's "@context" must start with "${CONTEXTS.credentialsV2}" or "${CONTEXTS.credentialsV1}".`)
  const unknown = context.filter((c) => typeof c !== 'string' || !STATIC_CONTEXTS.has(c))
  if (unknown.length > 0) return refused(`The presentation's "@context" names ${unknown.map((c) => JSON.stringify(c)).join(', ')}, which this service does not hold (contexts are never fetched).`)

  const proofs = asArray(presentation.proof)
  if (proofs.length !== 1 || !isObject(proofs[0])) return refused(`The presentation must carry exactly one proof (it carries ${proofs.length}): the wallet's signature for "authentication".`)
  const proof = proofs[0]
  const suite = proof.type === 'Ed25519Signature2020'
    ? DID_AUTH_SUITES.Ed25519Signature2020
    : proof.type === 'DataIntegrityProof' && proof.cryptosuite === 'eddsa-rdfc-2022' ? DID_AUTH_SUITES['eddsa-rdfc-2022'] : undefined
  if (suite === undefined) {
    const name = proof.type === 'DataIntegrityProof' ? `DataIntegrityProof/${String(proof.cryptosuite)}` : String(proof.type ?? '(no type)')
    return refused(`The proof suite "${name}" is not accepted; sign with Ed25519Signature2020 or eddsa-rdfc-2022.`)
  }
  if (proof.proofPurpose !== 'authentication') return refused(`The proof's "proofPurpose" is ${JSON.stringify(proof.proofPurpose ?? null)}; a DID authentication's must be "authentication".`)
  if (typeof proof.challenge !== 'string' || !sameSecret(proof.challenge, expected.challenge)) return refused('The proof does not answer the challenge this offer asked for: sign the challenge the exchange returned (or the one in the wallet link).')
  const domains = asArray(proof.domain)
  const domainAbsentAndOptional = expected.domainOptional === true && proof.domain === undefined
  if (!domainAbsentAndOptional && !domains.includes(expected.domain)) return refused(`The proof's "domain" is ${JSON.stringify(proof.domain ?? null)}; this exchange asked for "${expected.domain}".`)

  let key
  try {
    key = await resolveDidKey(typeof proof.verificationMethod === 'string' ? proof.verificationMethod : isObject(proof.verificationMethod) && typeof proof.verificationMethod.id === 'string' ? proof.verificationMethod.id : '')
  } catch (error) {
    if (error instanceof DidKeyError) return refused(`The proof's verification method is not accepted: ${error.message}`)
    throw error
  }
  if (key.keyType !== 'Ed25519') return refused(`The did:key "${key.did}" is a ${key.keyType} key; ${proof.type as string} proofs are made with Ed25519 keys.`)
  const holder = isObject(presentation.holder) ? presentation.holder.id : presentation.holder
  if (holder !== undefined && holder !== key.did) return refused(`The presentation names the holder ${JSON.stringify(holder)} but was signed by "${key.did}".`)

  const task: VerifyTask = {
    kind: 'verify',
    document: forVerification(presentation, proof),
    suites: [suite],
    documents: key.documents,
    purpose: { term: 'authentication', challenge: expected.challenge, ...(domainAbsentAndOptional ? {} : { domain: expected.domain }) }
  }
  const { results, setError } = dataIntegrity === undefined ? await runTask(task) as VerifyResult : await dataIntegrity.run<VerifyResult>(task)
  if (results.length === 1 && results[0]?.verified === true) return { ok: true, did: key.did }
  const error = results[0]?.error ?? setError
  if (error?.missingUrl !== undefined) return refused(`The presentation needs "${error.missingUrl}", which this service does not hold (documents are never fetched).`)
  return refused(`The presentation's signature does not verify: ${error?.description ?? 'no proof matched the "authentication" purpose'}.`)
}

export interface ExchangeDeps extends ReissueDeps {
  /** The service's public base URL (PUBLIC_BASE_URL). */
  baseUrl: string
}

export type ExchangeAnswer =
  | { verifiablePresentationRequest: DidAuthRequest }
  | { verifiablePresentation: { '@context': string[], type: string[], verifiableCredential: Array<Record<string, unknown>> } }

/** The challenge of an offer's exchange: the one already asked, or a new one kept in the offer. */
async function challengeOf (deps: ExchangeDeps, offer: WalletOfferRow): Promise<string> {
  if (offer.vcapiChallenge !== null) return offer.vcapiChallenge
  return await setVcapiChallengeOnce(deps.sql, offer.id, newChallenge())
}

/**
 * One step of an offer's exchange. `{}` (or no body): the DID authentication
 * request. `{ verifiablePresentation }`: the badge bound to the DID that
 * signed it, delivered once. A refused presentation counts as a failed attempt
 * (MAX_FAILED_ATTEMPTS close the offer) and throws wallet_proof_refused;
 * unknown, used and expired offers throw as findLiveOffer does.
 */
export async function answerExchange (deps: ExchangeDeps, token: string, body: Json | undefined): Promise<ExchangeAnswer> {
  const offer = await findLiveOffer(deps.sql, token, deps.now)
  const presentation = body?.verifiablePresentation
  if (presentation === undefined) {
    const challenge = await challengeOf(deps, offer)
    return { verifiablePresentationRequest: buildDidAuthRequest({ challenge, domain: exchangeDomain(deps.baseUrl), exchangeUrl: offerUrls(deps.baseUrl, token).vcapiExchange }) }
  }
  const outcome = offer.vcapiChallenge === null
    ? refused('No challenge was asked for yet: POST {} to this exchange first, then sign the challenge it returns.')
    : await verifyDidAuthentication(presentation, { challenge: offer.vcapiChallenge, domain: exchangeDomain(deps.baseUrl) }, deps.dataIntegrity)
  return { verifiablePresentation: await deliverOrRefuse(deps, offer, outcome) }
}

type DeliveredPresentation = Extract<ExchangeAnswer, { verifiablePresentation: unknown }>['verifiablePresentation']

/** A refused proof counts as a failed attempt (and throws); an accepted one delivers the badge, in an unsigned presentation. */
async function deliverOrRefuse (deps: ExchangeDeps, offer: WalletOfferRow, outcome: DidAuthOutcome): Promise<DeliveredPresentation> {
  if (!outcome.ok) {
    await countFailedAttempt(deps.sql, offer.id)
    throw new AppError('wallet_proof_refused', outcome.message)
  }
  const delivered = await deliverOffer(deps, offer.id, outcome.did, 'vcapi')
  return { '@context': [CONTEXTS.credentialsV2], type: ['VerifiablePresentation'], verifiableCredential: [delivered.credential] }
}

/*
 * Learner Credential Wallet's credential request link: what released LCW
 * (v2.2.9) stores a DID-bound badge from. Its VC API path signs the DID
 * authentication and then drops the exchange's answer (app/lib/exchanges.ts,
 * processRequest: "End the exchange"); its credential request flow
 * (app/lib/credentialRequest.ts, requestCredential) opens
 * `https://lcw.app/request?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…`,
 * POSTs a bare presentation signed for "authentication" with the link's
 * challenge and no domain (app/lib/present.ts), and stores the credentials of
 * the VC or VP it gets back. Digital Credentials Consortium's exchanger
 * serves the same link (transaction-service, getProtocols, `lcw`).
 *
 * The challenge is derived from the offer's token, so the link can state it
 * while the database keeps nothing more; a proof naming a domain must name
 * ours. The offer stays single-use, expiring and rate-limited.
 */

/** The challenge of an offer's credential request link. */
export function credentialRequestChallengeFor (token: string): string {
  return createHash('sha256').update(`lcw-credential-request:${token}`, 'utf8').digest('base64url')
}

/** Where LCW's credential request link POSTs its presentation. */
export function credentialRequestUrl (baseUrl: string, token: string): string {
  return `${offerUrls(baseUrl, token).vcapiExchange}/credential-request`
}

/** The `https://lcw.app/request?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…` link of an offer. */
export function lcwCredentialRequestLink (baseUrl: string, token: string): string {
  const query = new URLSearchParams({ issuer: new URL(baseUrl).host, auth_type: 'bearer', challenge: credentialRequestChallengeFor(token), vc_request_url: credentialRequestUrl(baseUrl, token) })
  return `https://lcw.app/request?${query.toString()}`
}

/** LCW's credential request: its bare presentation in, the badge (bound to its DID) out as a bare presentation. */
export async function answerCredentialRequest (deps: ExchangeDeps, token: string, presentation: unknown): Promise<DeliveredPresentation> {
  const offer = await findLiveOffer(deps.sql, token, deps.now)
  const outcome = await verifyDidAuthentication(presentation, { challenge: credentialRequestChallengeFor(token), domain: exchangeDomain(deps.baseUrl), domainOptional: true }, deps.dataIntegrity)
  return await deliverOrRefuse(deps, offer, outcome)
}
