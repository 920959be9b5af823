import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import type { PublishedEd25519Key, PublishedKey } from '../keys/store.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import type { IssuerRow } from './store.js'

/**
 * The issuer as embedded in every credential: an OB 3.0 Profile with the fields
 * a verifier shows (the 1EdTech validator requires an embedded Profile).
 */
export function embeddedIssuerProfile (issuer: IssuerRow, urls: PublicUrls): Record<string, unknown> {
  return {
    id: urls.issuer(issuer.id),
    type: ['Profile'],
    name: issuer.name,
    ...(issuer.url !== null ? { url: issuer.url } : {}),
    ...(issuer.email !== null ? { email: issuer.email } : {}),
    ...(issuer.description !== null ? { description: issuer.description } : {})
  }
}

/** The Multikey verification method document of a published Ed25519 key. */
export function multikeyVerificationMethod (key: PublishedEd25519Key, urls: PublicUrls): Record<string, unknown> {
  return {
    id: urls.verificationMethod(key.issuerId, key.publicKeyMultibase),
    type: 'Multikey',
    controller: urls.issuer(key.issuerId),
    publicKeyMultibase: key.publicKeyMultibase
  }
}

/**
 * The public Profile served at the issuer's id: it is also the controller
 * document of the issuer's Data Integrity keys, listing every key that still
 * verifies in `assertionMethod`.
 */
export function issuerProfileDocument (issuer: IssuerRow, keys: PublishedKey[], urls: PublicUrls): Record<string, unknown> {
  return {
    // DID v1 defines `assertionMethod`, so verifiers that frame this document
    // in JSON-LD safe mode (jsonld-signatures does) find the keys.
    '@context': [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3, CONTEXTS.didV1, CONTEXTS.multikeyV1],
    ...embeddedIssuerProfile(issuer, urls),
    assertionMethod: keys.filter((k): k is PublishedEd25519Key => k.algorithm === 'Ed25519').map((k) => multikeyVerificationMethod(k, urls))
  }
}
