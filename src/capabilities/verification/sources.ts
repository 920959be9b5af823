import type { JWK } from 'jose'
import type { RecertificationPolicy } from '../achievements/recertification-rules.js'
import type { DataIntegrity } from '../../infrastructure/signing/pool.js'
import type { Ownership } from './ownership.js'
import type { PureCheckCache } from './pure-check-cache.js'
import type { ForeignResolvers } from './foreign/foreign-sources.js'
import type { Recognition } from '../registry/lookup.js'

/**
 * Everything the verifier needs from outside the credential, injected so the
 * pipeline never reaches the network or the database on its own.
 */
export interface VerificationSources {
  /** Is this id (issuer, key, status list) one of ours, a forged spelling of one, or someone else's? Pure, no I/O. */
  ownership: (id: string) => Ownership
  /**
   * The registry entry that recognises this foreign issuer (registry/matching.ts),
   * or undefined. Only a recognised issuer's self-asserted keys (did:key, `#z6Mk…`,
   * a JWT `jwk`) and the keys its own document publishes bind as the issuer's.
   * Throws SourceUnavailableError when the registry cannot be read.
   */
  recognisedIssuer: (issuerId: string) => Promise<Recognition | undefined>
  /** The deployment's clock leeway on validFrom / nbf (VERIFY_CLOCK_LEEWAY_SECONDS); absent: DEFAULT_CLOCK_LEEWAY_SECONDS. */
  clockLeewaySeconds?: number
  /** Own issuers: the published Ed25519 key with this multibase, or undefined. */
  findOwnEd25519Key: (issuerId: string, publicKeyMultibase: string) => Promise<{ id: string, status: 'active' | 'retired' | 'compromised', compromisedAt?: Date } | undefined>
  /** Own JWT key by its kid URL, or undefined when the kid is not ours. */
  findOwnJwtKey: (kid: string) => Promise<{ issuerId: string, publicJwk: JWK, alg: string, status: string, compromisedAt?: Date } | undefined>
  /**
   * Did this service itself produce this signature value (a Data Integrity
   * proofValue or a JWS signature) for one of its stored versions? Only such
   * signatures by a withdrawn key can still be trusted: a thief can backdate.
   */
  isOwnSignature: (signature: string) => Promise<boolean>
  /**
   * Is this document (by the SHA-256, hex, of its JSON: PureCheckCache.hashOf)
   * exactly one this service signed and stored? Then its proofs were made
   * here and need no second check. Optional: without it, every proof is checked.
   */
  isOwnDocument?: (sha256Hex: string) => Promise<boolean>
  /**
   * Own status list by its URL (bits from the database), or undefined when not
   * ours. With `recordIndex`, also what the records say about the version
   * holding that entry (when it was superseded or revoked, which version is
   * current; undefined when no version of ours holds it), read with the list.
   */
  findOwnStatusList: (url: string, recordIndex?: number) => Promise<{ issuerId: string, purpose: string, size: number, bits: Uint8Array, record?: OwnStatusRecord } | undefined>
  /**
   * Foreign status list credential documents (and 1EdTech revocation lists):
   * undefined when there is no network, or ForeignUnavailable thrown with why
   * it could not be had. Either way the status check says `unknown`.
   */
  fetchStatusListCredential: (url: string) => Promise<unknown>
  /** An https or did:web verification method of another issuer, dereferenced; absent: no network. */
  findForeignKey?: ForeignResolvers['findForeignKey']
  /** Another issuer's VC-JWT key from its `kid`; absent: no network. */
  findForeignJwtKey?: ForeignResolvers['findForeignJwtKey']
  /**
   * The sources for one verification: the network lookups above then share
   * its fetch budget (FOREIGN_LIMITS). The pipeline calls it once per verification.
   */
  forVerification?: () => VerificationSources
}

/**
 * What the verifier computes with, owned by the app that verifies: where Data
 * Integrity proofs are checked (its threads) and its cache of content-only
 * checks. Absent: on this thread, nothing remembered.
 */
export interface VerificationRuntime {
  dataIntegrity?: DataIntegrity
  pureChecks?: PureCheckCache
  /** The deployment's wall-clock budget per verification (VERIFY_TIME_BUDGET_MS); absent: LIMITS.timeBudgetMs. */
  timeBudgetMs?: number
}

export interface OwnStatusRecord {
  credentialUrl: string
  version: number
  currentVersion: number
  supersededAt?: Date
  revokedAt?: Date
  /**
   * Set when the next version is a recertification: when it took over (its
   * validFrom). This version is left to expire (its bit stays clear: what it
   * says of its period is true), but this service answers `superseded` from then on.
   */
  renewedAt?: Date
  /** The current version's validUntil, when it has one. */
  currentValidUntil?: Date
  /**
   * The achievement's recertification rules (null: none), so the notice of an
   * expired credential of ours gives the same renewal advice as its page.
   */
  recertification: RecertificationPolicy | null
}

/** Sources that know no issuer, key or list: every foreign lookup comes back empty. */
export const noSources: VerificationSources = {
  ownership: () => 'foreign',
  recognisedIssuer: async () => undefined,
  findOwnEd25519Key: async () => undefined,
  findOwnJwtKey: async () => undefined,
  isOwnSignature: async () => false,
  findOwnStatusList: async () => undefined,
  fetchStatusListCredential: async () => undefined
}

/**
 * Thrown by a source that cannot answer right now (the database is down). The
 * pipeline turns it into an `indeterminate` result: never valid, never a 500.
 */
export class SourceUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SourceUnavailableError'
  }
}
