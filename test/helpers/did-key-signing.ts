import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import jsigs from 'jsonld-signatures'
import { staticDocumentLoader } from '../../src/infrastructure/jsonld/document-loader.js'

/**
 * A did:key made in the test (never a published key), and signing with the
 * suite the service signs with (eddsa-rdfc-2022 over the static contexts):
 * what a wallet or another issuer would send.
 */

type Json = Record<string, any>

export interface DidKey { did: string, verificationMethod: string, signer: Ed25519Multikey.Ed25519KeyPair['signer'] }

export async function generateDidKey (): Promise<DidKey> {
  const generated = await Ed25519Multikey.generate()
  const did = `did:key:${generated.publicKeyMultibase as string}`
  const verificationMethod = `${did}#${generated.publicKeyMultibase as string}`
  const keyPair = await Ed25519Multikey.from({ ...(await generated.export({ publicKey: true, secretKey: true, includeContext: true })), id: verificationMethod, controller: did })
  return { did, verificationMethod, signer: () => keyPair.signer() }
}

/** The suite, with proof options a test may set (e.g. a malformed `created`) before signing. */
function suiteFor (key: DidKey, proof?: Json): DataIntegrityProof {
  const suite = new DataIntegrityProof({ signer: key.signer(), cryptosuite: eddsaRdfc2022, ...(proof === undefined ? { date: '2026-01-01T00:00:00Z' } : {}) })
  if (proof !== undefined) (suite as unknown as { proof: Json }).proof = proof
  return suite
}

export async function signCredential (credential: Json, key: DidKey, proof?: Json): Promise<Json> {
  return await vc.issue({ credential: structuredClone(credential), suite: suiteFor(key, proof), documentLoader: staticDocumentLoader })
}

/** A presentation signed for authentication, bound to `challenge` (and `domain` when given). */
export async function signPresentation (presentation: Json, key: DidKey, challenge: string, domain?: string): Promise<Json> {
  return await vc.signPresentation({ presentation: structuredClone(presentation), suite: suiteFor(key), challenge, ...(domain !== undefined ? { domain } : {}), documentLoader: staticDocumentLoader })
}

/** Signs with any proof purpose: how a test makes a genuine signature for the wrong purpose. */
export async function signWithPurpose (document: Json, key: DidKey, purpose: 'authentication' | 'assertionMethod', challenge = 'c-0'): Promise<Json> {
  const proofPurpose = purpose === 'authentication' ? new jsigs.purposes.AuthenticationProofPurpose({ challenge }) : new jsigs.purposes.AssertionProofPurpose()
  return await jsigs.sign(structuredClone(document), { suite: suiteFor(key), purpose: proofPurpose, documentLoader: staticDocumentLoader })
}
