import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Sql } from 'postgres'
import {
  type AuthorizationServerMetadata,
  type CallbackContext,
  decodeJwt,
  Oauth2AuthorizationServer,
  Oauth2ErrorCodes,
  Oauth2ServerErrorResponseError,
  preAuthorizedCodeGrantIdentifier,
  type RequestLike
} from '@openid4vc/oauth2'
import {
  type CredentialIssuerMetadata,
  type IssuerMetadataResult,
  Openid4vciIssuer,
  Openid4vciVersion
} from '@openid4vc/openid4vci'
import { setGlobalConfig } from '@openid4vc/utils'
import type { ReissueDeps } from '../credentials/recertify/reissue-credential.js'
import { recordAuditEvent } from '../audit/store.js'
import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import { AppError } from '../../kernel/errors.js'
import { assertOfferLive, deliverOffer, MAX_FAILED_ATTEMPTS, offerUrls, preAuthorizedCodeFor, secretHash, txCodeMatches } from './offers.js'
import { redeemPreAuthorizedCode } from './oid4vci-store.js'
import { BINDING_METHODS, PROOF_ALGS, ProofKeyError, resolveProofKid, verifyProofJwt } from './oid4vci-proof.js'
import { countFailedAttempt, findWalletOfferByAccessTokenHash, findWalletOfferByPreAuthorizedCodeHash, type WalletOfferRow } from './store.js'

/**
 * OpenID for Verifiable Credential Issuance 1.0, pre-authorised code flow,
 * with @openid4vc/openid4vci and @openid4vc/oauth2 (0.4.6) for the protocol:
 * metadata and offers are built and validated by the library, access token
 * and credential requests parsed by it, proofs of possession verified by it
 * (with our callback resolving the wallet's DID locally). What is ours: the
 * state (the wallet offer in PostgreSQL), the opaque access token, the
 * stateless c_nonce, and delivery (the badge bound to the wallet's DID).
 *
 * The credential issuer is the service (PUBLIC_BASE_URL). The authorization
 * server for this flow is a separate identifier, `<base>/wallet/oid4vci`,
 * so its metadata (RFC 8414, path inserted) never contradicts the Open
 * Badges API's oidc-provider, which is the issuer `<base>` itself.
 */

export const OID4VCI_PATHS = {
  issuerMetadata: '/.well-known/openid-credential-issuer',
  /** RFC 8414 §3: the well-known path inserted before the issuer's path. */
  authorizationServerMetadata: '/.well-known/oauth-authorization-server/wallet/oid4vci',
  /** The same document where wallets that append the well-known suffix look. */
  authorizationServerMetadataAppended: '/wallet/oid4vci/.well-known/oauth-authorization-server',
  openidConfigurationAppended: '/wallet/oid4vci/.well-known/openid-configuration',
  offer: '/wallet/oid4vci/offers/:token',
  token: '/wallet/oid4vci/token',
  nonce: '/wallet/oid4vci/nonce',
  credential: '/wallet/oid4vci/credential'
} as const

/** The one credential configuration: an Open Badges 3.0 credential with a Data Integrity proof. */
export const CREDENTIAL_CONFIGURATION_ID = 'OpenBadgeCredential_ldp_vc'
/** An access token lives ten minutes (never past its offer: delivery checks the offer again). */
export const ACCESS_TOKEN_LIFETIME_S = 600
/** A c_nonce lives five minutes. */
export const NONCE_LIFETIME_S = 300
/** A proof's iat may be this far from our clock (wallet clocks drift). */
export const PROOF_IAT_SKEW_S = 60

/**
 * The library refuses http:// identifiers (OID4VCI requires https). A
 * service whose PUBLIC_BASE_URL is http:// (development, a loopback test)
 * lets it accept them; production's https base changes nothing. The setting
 * is the library's, process-wide, and only this module uses the library.
 */
export function acceptHttpIdentifiersIfBaseIsHttp (publicBaseUrl: string): void {
  if (publicBaseUrl.startsWith('http://')) setGlobalConfig({ allowInsecureUrls: true })
}

export const base = (publicBaseUrl: string): string => publicBaseUrl.replace(/\/$/, '')
export const authorizationServerId = (publicBaseUrl: string): string => `${base(publicBaseUrl)}/wallet/oid4vci`

/** An OAuth 2.0 / OID4VCI error answer: `{ error, error_description }` with its status (and WWW-Authenticate for the credential endpoint). */
export class OAuthError extends Error {
  constructor (readonly status: number, readonly error: string, readonly description: string, readonly wwwAuthenticate?: string) {
    super(description)
    this.name = 'OAuthError'
  }

  get body (): { error: string, error_description: string } {
    return { error: this.error, error_description: this.description }
  }
}

const refused = (): never => { throw new Error('not used by the issuer side') }
const callbacks: Omit<CallbackContext, 'decryptJwe'> = {
  hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  generateRandom: (bytes) => randomBytes(bytes),
  verifyJwt: verifyProofJwt,
  signJwt: refused,
  encryptJwe: refused,
  clientAuthentication: refused
}
const issuer = new Openid4vciIssuer({ callbacks })
const authorizationServer = new Oauth2AuthorizationServer({ callbacks })

export interface IssuerDisplay { name: string, logoUrl?: string | undefined, backgroundColor?: string | undefined }

/** The credential issuer metadata (OID4VCI 1.0 §12.2), validated by the library. */
export function credentialIssuerMetadata (publicBaseUrl: string, display: IssuerDisplay): CredentialIssuerMetadata {
  const b = base(publicBaseUrl)
  const logo = display.logoUrl !== undefined ? { logo: { uri: display.logoUrl, alt_text: `${display.name} logo` } } : {}
  return issuer.createCredentialIssuerMetadata({
    credential_issuer: b,
    authorization_servers: [authorizationServerId(publicBaseUrl)],
    credential_endpoint: `${b}${OID4VCI_PATHS.credential}`,
    nonce_endpoint: `${b}${OID4VCI_PATHS.nonce}`,
    display: [{ name: display.name, locale: 'en', ...logo }],
    credential_configurations_supported: {
      [CREDENTIAL_CONFIGURATION_ID]: {
        format: 'ldp_vc',
        credential_definition: {
          '@context': [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3, CONTEXTS.openBadgesExtensions],
          type: ['VerifiableCredential', 'OpenBadgeCredential']
        },
        cryptographic_binding_methods_supported: [...BINDING_METHODS],
        // For ldp_vc, the Data Integrity cryptosuites the credential is signed with.
        credential_signing_alg_values_supported: ['eddsa-rdfc-2022'],
        proof_types_supported: { jwt: { proof_signing_alg_values_supported: [...PROOF_ALGS] } },
        credential_metadata: {
          display: [{
            name: 'Open Badge',
            locale: 'en',
            description: `A badge issued by ${display.name} (Open Badges 3.0).`,
            ...logo,
            ...(display.backgroundColor !== undefined ? { background_color: display.backgroundColor, text_color: '#FFFFFF' } : {})
          }]
        }
      }
    }
  })
}

/** The authorization server metadata (RFC 8414) of `<base>/wallet/oid4vci`: the pre-authorised code grant only. */
export function authorizationServerMetadata (publicBaseUrl: string): AuthorizationServerMetadata {
  return authorizationServer.createAuthorizationServerMetadata({
    issuer: authorizationServerId(publicBaseUrl),
    token_endpoint: `${base(publicBaseUrl)}${OID4VCI_PATHS.token}`,
    grant_types_supported: [preAuthorizedCodeGrantIdentifier],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    'pre-authorized_grant_anonymous_access_supported': true
  })
}

function issuerMetadataResult (publicBaseUrl: string, display: IssuerDisplay): IssuerMetadataResult {
  const credentialIssuer = credentialIssuerMetadata(publicBaseUrl, display)
  return {
    originalDraftVersion: Openid4vciVersion.V1,
    credentialIssuer,
    authorizationServers: [authorizationServerMetadata(publicBaseUrl)],
    knownCredentialConfigurations: issuer.getKnownCredentialConfigurationsSupported(credentialIssuer)
  }
}

/** What a transaction code prompt says (OID4VCI §4.1.1 `tx_code.description`, at most 300 characters). */
export const TX_CODE_DESCRIPTION = 'The 6-digit code in the email that brought you this badge.'

/** The credential offer an offer's token names (fetched by reference from `credential_offer_uri`). */
export async function credentialOfferFor (publicBaseUrl: string, display: IssuerDisplay, token: string, offer: Pick<WalletOfferRow, 'channel' | 'txCodeHash'>): Promise<Record<string, unknown>> {
  const created = await issuer.createCredentialOffer({
    issuerMetadata: issuerMetadataResult(publicBaseUrl, display),
    credentialConfigurationIds: [CREDENTIAL_CONFIGURATION_ID],
    credentialOfferUri: offerUrls(publicBaseUrl, token).oid4vciOfferUri,
    grants: {
      [preAuthorizedCodeGrantIdentifier]: {
        'pre-authorized_code': preAuthorizedCodeFor(token),
        ...(offer.channel === 'email' || offer.txCodeHash !== null ? { tx_code: { input_mode: 'numeric', length: 6, description: TX_CODE_DESCRIPTION } } : {})
      }
    }
  })
  return created.credentialOfferObject
}

// ---- c_nonce: stateless, an HMAC over a random value and its expiry ----

/** `<random>.<expiry, epoch seconds>.<HMAC-SHA256>`: any instance checks it with the shared service secret. */
export function createNonce (key: Buffer, now: Date): { cNonce: string, expiresIn: number } {
  const body = `${randomBytes(16).toString('base64url')}.${Math.floor(now.getTime() / 1000) + NONCE_LIFETIME_S}`
  return { cNonce: `${body}.${nonceMac(key, body)}`, expiresIn: NONCE_LIFETIME_S }
}

const nonceMac = (key: Buffer, body: string): string => createHmac('sha256', key).update(`oid4vci-c-nonce:${body}`).digest('base64url')

/** Whether a c_nonce is one of ours and unexpired. */
export function nonceIsValid (key: Buffer, nonce: string, now: Date): boolean {
  const parts = nonce.split('.')
  if (parts.length !== 3) return false
  const [random, expiry, mac] = parts as [string, string, string]
  const expected = Buffer.from(nonceMac(key, `${random}.${expiry}`))
  const given = Buffer.from(mac)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false
  return /^\d{1,12}$/.test(expiry) && Number(expiry) * 1000 > now.getTime()
}

// ---- token endpoint ----

export interface TokenDeps { sql: Sql, now: Date, publicBaseUrl: string, nonceKey: Buffer }

const oauthFrom = (error: unknown): OAuthError | undefined =>
  error instanceof Oauth2ServerErrorResponseError
    ? new OAuthError(error.status ?? 400, error.errorResponse.error, String(error.errorResponse.error_description ?? error.errorResponse.error))
    : undefined

/**
 * The token endpoint (OID4VCI §6, RFC 6749 §5): a pre-authorised code (and,
 * for an email offer, its transaction code) for an opaque access token bound
 * to the offer. The code works once; wrong transaction codes count towards
 * MAX_FAILED_ATTEMPTS, after which the offer is closed.
 */
export async function exchangePreAuthorizedCode (deps: TokenDeps, body: Record<string, unknown>, request: RequestLike): Promise<Record<string, unknown>> {
  let parsed
  try {
    parsed = authorizationServer.parseAccessTokenRequest({ accessTokenRequest: body, request })
  } catch (error) {
    throw oauthFrom(error) ?? error
  }
  const grant = parsed.grant
  if (grant.grantType !== preAuthorizedCodeGrantIdentifier) throw new OAuthError(400, Oauth2ErrorCodes.UnsupportedGrantType, 'Only the pre-authorized_code grant is supported here.')
  const codeHash = secretHash(grant.preAuthorizedCode)
  const offer = await findWalletOfferByPreAuthorizedCodeHash(deps.sql, codeHash)
  if (offer === undefined) throw new OAuthError(400, Oauth2ErrorCodes.InvalidGrant, 'The pre-authorized_code is unknown or was already used.')
  try {
    assertOfferLive(offer, deps.now)
  } catch (error) {
    if (error instanceof AppError) throw new OAuthError(400, Oauth2ErrorCodes.InvalidGrant, error.message)
    throw error
  }
  if (offer.txCodeHash !== null) {
    if (grant.txCode === undefined || grant.txCode === '') throw new OAuthError(400, Oauth2ErrorCodes.InvalidRequest, 'This offer needs its transaction code (tx_code): the 6-digit code in the email.')
    if (!txCodeMatches(offer, grant.txCode)) {
      const failed = await countFailedAttempt(deps.sql, offer.id)
      const left = MAX_FAILED_ATTEMPTS - failed
      await recordAuditEvent(deps.sql, { actor: 'wallet', action: 'wallet.offer_refused', subjectType: 'credential', subjectId: offer.credentialId, details: { offerId: offer.id, protocol: 'oid4vci', reason: 'wrong tx_code', failedAttempts: failed } })
      throw new OAuthError(400, Oauth2ErrorCodes.InvalidGrant, left > 0 ? `The transaction code is wrong (${left} ${left === 1 ? 'try' : 'tries'} left).` : 'The transaction code is wrong; the offer is now closed. Make a new one from your account.')
    }
  } else if (grant.txCode !== undefined) {
    throw new OAuthError(400, Oauth2ErrorCodes.InvalidRequest, 'This offer has no transaction code: send none.')
  }
  const accessToken = randomBytes(32).toString('base64url')
  const expiresAt = new Date(deps.now.getTime() + ACCESS_TOKEN_LIFETIME_S * 1000)
  if (!await redeemPreAuthorizedCode(deps.sql, offer.id, codeHash, { hash: secretHash(accessToken), expiresAt })) {
    throw new OAuthError(400, Oauth2ErrorCodes.InvalidGrant, 'The pre-authorized_code is unknown or was already used.')
  }
  await recordAuditEvent(deps.sql, { actor: 'wallet', action: 'wallet.oid4vci_token_issued', subjectType: 'credential', subjectId: offer.credentialId, details: { offerId: offer.id, expiresAt: expiresAt.toISOString() } })
  // c_nonce in the token response is draft 13's; OID4VCI 1.0 wallets use the nonce endpoint. Both work.
  const nonce = createNonce(deps.nonceKey, deps.now)
  return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_LIFETIME_S, c_nonce: nonce.cNonce, c_nonce_expires_in: nonce.expiresIn }
}

// ---- credential endpoint ----

export interface CredentialDeps { reissue: ReissueDeps, publicBaseUrl: string, display: IssuerDisplay, nonceKey: Buffer }

const bearerChallenge = (error?: string, description?: string): string =>
  error === undefined ? 'Bearer' : `Bearer error="${error}", error_description="${(description ?? '').replace(/["\\]/g, '')}"`

const invalidToken = (description: string): OAuthError => new OAuthError(401, Oauth2ErrorCodes.InvalidToken, description, bearerChallenge(Oauth2ErrorCodes.InvalidToken, description))

/** The offer an access token (from the Authorization header) was issued for. */
export async function offerForAccessToken (sql: Sql, authorization: string | undefined, now: Date): Promise<WalletOfferRow> {
  const match = /^(?:Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '')
  if (match === null) throw new OAuthError(401, Oauth2ErrorCodes.InvalidToken, 'An access token is required (Authorization: Bearer …) from the token endpoint.', bearerChallenge())
  const offer = await findWalletOfferByAccessTokenHash(sql, secretHash(match[1]!))
  if (offer === undefined) throw invalidToken('The access token is unknown, or its credential was already delivered.')
  if (offer.accessTokenExpiresAt === null || offer.accessTokenExpiresAt.getTime() <= now.getTime()) throw invalidToken('The access token has expired.')
  try {
    assertOfferLive(offer, now)
  } catch (error) {
    if (error instanceof AppError) throw invalidToken(error.message)
    throw error
  }
  return offer
}

/**
 * A draft-13 request for our one configuration, as LearnCard's wallet sends
 * it (`format: "ldp_vc"`, the single `proof`, and the configuration id as
 * `credential_identifier` alongside `format`, which the library's schema
 * forbids), rewritten as the 1.0 request it means:
 * `{ credential_configuration_id, proof }`. Anything else is left as it is.
 */
export function asVersion1Request (body: Record<string, unknown>): Record<string, unknown> {
  if (body.credential_configuration_id !== undefined) return body
  if (body.credential_identifier !== CREDENTIAL_CONFIGURATION_ID && body.format !== 'ldp_vc') return body
  const { format: _format, credential_identifier: _identifier, credential_definition: _definition, types: _types, '@context': _context, ...rest } = body
  return { ...rest, credential_configuration_id: CREDENTIAL_CONFIGURATION_ID }
}

/**
 * The credential endpoint (OID4VCI 1.0 §8): one `jwt` proof of possession,
 * signed by a did:key or did:jwk with a valid c_nonce, audience the
 * credential issuer and a recent iat; then the badge is delivered bound to
 * that DID (a new version) and answered as `credentials: [{ credential }]`.
 */
export async function issueCredential (deps: CredentialDeps, offer: WalletOfferRow, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const metadata = issuerMetadataResult(deps.publicBaseUrl, deps.display)
  const now = deps.reissue.now
  body = asVersion1Request(body)
  if (typeof body.credential_configuration_id === 'string' && body.credential_configuration_id !== CREDENTIAL_CONFIGURATION_ID) {
    throw new OAuthError(400, Oauth2ErrorCodes.UnknownCredentialConfiguration, `Ask for credential_configuration_id "${CREDENTIAL_CONFIGURATION_ID}".`)
  }
  let parsed
  try {
    parsed = issuer.parseCredentialRequest({ issuerMetadata: metadata, credentialRequest: body })
  } catch (error) {
    throw oauthFrom(error) ?? error
  }
  if (parsed.credentialIdentifier !== undefined) throw new OAuthError(400, Oauth2ErrorCodes.UnknownCredentialIdentifier, 'No credential identifiers are issued here: ask by credential_configuration_id.')
  const asksOurs = parsed.credentialConfigurationId === CREDENTIAL_CONFIGURATION_ID
  if (!asksOurs) throw new OAuthError(400, Oauth2ErrorCodes.UnknownCredentialConfiguration, `Ask for credential_configuration_id "${CREDENTIAL_CONFIGURATION_ID}".`)
  const jwts = parsed.proofs?.jwt
  if (jwts === undefined || jwts.length === 0) throw new OAuthError(400, Oauth2ErrorCodes.InvalidProof, 'A jwt proof of possession is required (proofs: { jwt: [ … ] }).')
  if (jwts.length > 1) throw new OAuthError(400, Oauth2ErrorCodes.InvalidProof, 'One badge is delivered to one key: send a single jwt proof.')
  const jwt = jwts[0]!

  let header: Record<string, unknown>, payload: Record<string, unknown>
  try {
    ({ header, payload } = decodeJwt({ jwt }))
  } catch {
    throw new OAuthError(400, Oauth2ErrorCodes.InvalidProof, 'The proof is not a JWT.')
  }
  // A stale or foreign nonce is the wallet's cue to fetch a new one (§8.3.1.2): not counted as a failed attempt.
  if (typeof payload.nonce !== 'string' || !nonceIsValid(deps.nonceKey, payload.nonce, now)) {
    throw new OAuthError(400, Oauth2ErrorCodes.InvalidNonce, 'The proof\'s nonce is missing, expired or not one of ours: get a fresh c_nonce from the nonce endpoint.')
  }
  const fail = async (description: string): Promise<never> => {
    await countFailedAttempt(deps.reissue.sql, offer.id)
    await recordAuditEvent(deps.reissue.sql, { actor: 'wallet', action: 'wallet.offer_refused', subjectType: 'credential', subjectId: offer.credentialId, details: { offerId: offer.id, protocol: 'oid4vci', reason: description } })
    throw new OAuthError(400, Oauth2ErrorCodes.InvalidProof, description)
  }
  if (typeof header.kid !== 'string') return await fail('The proof must name its key with kid, a did:key or did:jwk DID URL.')
  if (!(PROOF_ALGS as readonly unknown[]).includes(header.alg)) return await fail(`The proof's alg must be one of ${PROOF_ALGS.join(', ')}.`)
  let did: string
  try {
    did = (await resolveProofKid(header.kid)).did
  } catch (error) {
    if (error instanceof ProofKeyError) return await fail(error.message)
    throw error
  }
  const iat = typeof payload.iat === 'number' ? payload.iat : NaN
  const nowS = now.getTime() / 1000
  if (!(iat >= nowS - NONCE_LIFETIME_S - PROOF_IAT_SKEW_S && iat <= nowS + PROOF_IAT_SKEW_S)) return await fail('The proof\'s iat is not recent.')
  try {
    await issuer.verifyCredentialRequestJwtProof({ jwt, expectedNonce: payload.nonce, issuerMetadata: metadata, now })
  } catch (error) {
    const oauth = oauthFrom(error)
    if (oauth === undefined) throw error
    return await fail(oauth.description)
  }

  let delivered
  try {
    delivered = await deliverOffer(deps.reissue, offer.id, did, 'oid4vci')
  } catch (error) {
    if (error instanceof AppError && (error.code === 'wallet_offer_used' || error.code === 'wallet_offer_expired' || error.code === 'wallet_offer_unknown')) {
      throw new OAuthError(400, Oauth2ErrorCodes.CredentialRequestDenied, error.message)
    }
    throw error
  }
  const response = issuer.createCredentialResponse({ credentialRequest: parsed, credentials: [{ credential: delivered.credential as Record<string, unknown> }] })
  return response as Record<string, unknown>
}
