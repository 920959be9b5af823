import * as vc from '@digitalbazaar/vc'
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020'
import { Ed25519VerificationKey2020 } from '@digitalbazaar/ed25519-verification-key-2020'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import ed25519Context from 'ed25519-signature-2020-context'

/**
 * A wallet's side of a W3C VC API exchange, written the way Learner Credential
 * Wallet runs it (app/lib/exchanges.ts: interactExchange, constructExchangeRequest,
 * handleVcApiExchangeComplete; app/screens/ExchangeCredentials): POST {} to
 * the exchange, read the VerifiablePresentationRequest, sign an empty
 * presentation with its own did:key (Ed25519Signature2020 as LCW does, or
 * eddsa-rdfc-2022), POST `{ verifiablePresentation }` to
 * interact.service[0].serviceEndpoint (or the same URL), read
 * `verifiablePresentation.verifiableCredential[0]`. None of the service's
 * code: its contexts come from the libraries' own packages, HTTP is fetch.
 */

type Json = Record<string, any>

const CONTEXTS = new Map<string, unknown>([...credentialsContexts, ...ed25519Context.contexts])

/** The wallet's loader: the published contexts from their npm packages, nothing else, never the network. */
export async function walletDocumentLoader (url: string): Promise<{ contextUrl: null, documentUrl: string, document: unknown }> {
  const document = CONTEXTS.get(url)
  if (document === undefined) throw new Error(`the wallet does not hold ${url}`)
  return { contextUrl: null, documentUrl: url, document }
}

export type WalletSuite = 'Ed25519Signature2020' | 'eddsa-rdfc-2022'

export interface Wallet {
  did: string
  verificationMethod: string
  suite: WalletSuite
  /** A suite instance that signs with the wallet's key (optionally as another verification method). */
  signingSuite: (verificationMethod?: string) => Promise<unknown>
}

/** A wallet with a fresh Ed25519 did:key. */
export async function makeWallet (suite: WalletSuite = 'Ed25519Signature2020'): Promise<Wallet> {
  if (suite === 'Ed25519Signature2020') {
    // As LCW: an Ed25519VerificationKey2020 key whose did:key is its fingerprint (did-method-key).
    const generated = await Ed25519VerificationKey2020.generate()
    const did = `did:key:${generated.fingerprint() as string}`
    const verificationMethod = `${did}#${generated.fingerprint() as string}`
    const exported = generated.export({ publicKey: true, privateKey: true })
    return {
      did,
      verificationMethod,
      suite,
      signingSuite: async (id = verificationMethod) => new Ed25519Signature2020({ key: await Ed25519VerificationKey2020.from({ ...exported, id, controller: id.split('#')[0] }) })
    }
  }
  const generated = await Ed25519Multikey.generate()
  const did = `did:key:${generated.publicKeyMultibase as string}`
  const verificationMethod = `${did}#${generated.publicKeyMultibase as string}`
  const secret = await generated.export({ publicKey: true, secretKey: true, includeContext: true })
  return {
    did,
    verificationMethod,
    suite,
    signingSuite: async (id = verificationMethod) => {
      const keyPair = await Ed25519Multikey.from({ ...secret, id, controller: id.split('#')[0] })
      return new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022 })
    }
  }
}

/** The DID authentication presentation: empty, `holder` the DID, signed for "authentication". */
export async function signDidAuth (wallet: Wallet, options: { challenge: string, domain?: string, version?: 1 | 2, verificationMethod?: string, holder?: string }): Promise<Json> {
  // What vc.createPresentation({ holder }) makes (VCDM 2.0 by default, 1.1 as older wallets do).
  const presentation = { '@context': [options.version === 1 ? 'https://www.w3.org/2018/credentials/v1' : 'https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], holder: options.holder ?? wallet.did }
  return await vc.signPresentation({
    presentation,
    suite: await wallet.signingSuite(options.verificationMethod),
    challenge: options.challenge,
    ...(options.domain !== undefined ? { domain: options.domain } : {}),
    documentLoader: walletDocumentLoader
  })
}

export interface ExchangeReply { status: number, contentType: string, body: Json }

/** One POST to an exchange, as LCW's interactExchange makes it. */
export async function post (url: string, body: unknown): Promise<ExchangeReply> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body, null, 2) })
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.json() as Json }
}
