import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import jsonld from 'jsonld'
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import type { Test } from 'tap'
import { validateOpenBadgeSchema } from '../../src/capabilities/credentials/ob-schema.js'
import { createDocumentLoader, staticDocumentLoader } from '../../src/infrastructure/jsonld/document-loader.js'
import { BASE_URL, type TestApp } from './build-app.js'

/** Resolves keys the way an outside verifier would: from what the service publishes over HTTP. */
export function publishedDocumentLoader (t: TestApp) {
  return createDocumentLoader(async (url) => {
    if (!url.startsWith(BASE_URL)) return undefined
    const path = url.slice(BASE_URL.length).split('#')[0]!
    const response = await t.app.inject({ method: 'GET', url: path, headers: { accept: 'application/ld+json' } })
    if (response.statusCode !== 200) return undefined
    const document = response.json()
    if (!url.includes('#')) return document
    // A fragment names a verification method inside the controller (issuer) document.
    const method = (document.assertionMethod as Array<{ id: string }>).find((m) => m.id === url)
    return method === undefined ? undefined : { '@context': 'https://w3id.org/security/multikey/v1', ...method }
  })
}

/**
 * The independent checks every signed version must pass, none of them the
 * service's own verifier: the 1EdTech JSON schema, JSON-LD safe mode, the
 * Data Integrity proof with @digitalbazaar/vc resolving keys from what the
 * service publishes, and the VC-JWT with jose against the published JWK.
 */
export async function assertIndependentlyValid (t: Test, app: TestApp, credential: Record<string, any>, jwt: string, now: Date): Promise<void> {
  const schema = validateOpenBadgeSchema(credential)
  t.ok(schema.valid, `1EdTech schema: ${schema.errors.join('; ')}`)
  await t.resolves(jsonld.expand(credential, { documentLoader: staticDocumentLoader, safe: true }), 'safe-mode expansion succeeds')
  const result = await vc.verifyCredential({
    credential,
    suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
    documentLoader: publishedDocumentLoader(app),
    now,
    checkStatus: async () => ({ verified: true })
  })
  t.ok(result.verified, `the proof verifies with @digitalbazaar/vc: ${JSON.stringify(result.error ?? result.results?.[0]?.error)}`)
  const kid = decodeProtectedHeader(jwt).kid
  const jwk = (await app.app.inject({ method: 'GET', url: new URL(kid ?? '').pathname })).json<JWK>()
  const { payload } = await compactVerify(jwt, await importJWK(jwk, 'RS256'))
  const claims = JSON.parse(new TextDecoder().decode(payload))
  t.equal(claims.jti, credential.id, 'the JWT names the same credential')
  t.equal(claims.nbf, Date.parse(credential.validFrom) / 1000, 'the JWT nbf is the version\'s validFrom')
}
