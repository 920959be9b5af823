import t, { type Test } from 'tap'
import { build, type TestApp } from '../helpers/build-app.js'
import { generateDidKey, signCredential, signPresentation, signWithPurpose, type DidKey } from '../helpers/did-key-signing.js'

/**
 * POST /presentations/verify, written from the W3C VC API ("verify
 * presentation"), VCDM 2.0 §4.13 and VC Data Integrity (the "authentication"
 * purpose, challenge and domain): the presentation's proof and its binding to
 * the request and the holder, and each credential with the checks of
 * POST /credentials/verify.
 */

type Json = Record<string, any>
const CHALLENGE = '8b5c2f1e-3d4a-4b6c-9e7f-0a1b2c3d4e5f'
const DOMAIN = 'verifier.example.org'

let issuer: DidKey
let holder: DidKey
let credential: Json
t.before(async () => {
  issuer = await generateDidKey()
  holder = await generateDidKey()
  credential = await signCredential({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: 'urn:uuid:2f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4d',
    type: ['VerifiableCredential'],
    issuer: issuer.did,
    validFrom: '2026-01-01T00:00:00Z',
    name: 'Example Membership',
    credentialSubject: { id: holder.did }
  }, issuer)
})

const presentation = (credentials: Json[], holderId = holder.did): Json => ({
  '@context': ['https://www.w3.org/ns/credentials/v2'],
  type: ['VerifiablePresentation'],
  holder: holderId,
  verifiableCredential: credentials
})

/** An app where the credential's issuer is recognised, so a genuine credential is valid. */
async function appRecognisingIssuer (t: Test): Promise<TestApp> {
  const built = await build(t)
  const added = await built.app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: built.auth, payload: { issuerId: issuer.did, name: 'Example Society' } })
  t.equal(added.statusCode, 201)
  return built
}

const verify = async (app: TestApp, body: Json): Promise<{ statusCode: number, body: Json }> => {
  const response = await app.app.inject({ method: 'POST', url: '/presentations/verify', payload: body })
  return { statusCode: response.statusCode, body: response.json() }
}
const checkOf = (result: Json, id: string): Json | undefined => result.presentationResult.checks.find((c: Json) => c.id === id)

t.test('presentations', async (t) => {
  const app = await appRecognisingIssuer(t)

  t.test('a presentation signed by its holder for the challenge and domain asked, with a valid credential, is verified (200)', async (t) => {
    const vp = await signPresentation(presentation([credential]), holder, CHALLENGE, DOMAIN)
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp, options: { challenge: CHALLENGE, domain: DOMAIN } })
    t.equal(statusCode, 200, JSON.stringify(body.errors))
    t.equal(body.verified, true)
    t.same(body.presentationResult.checks.map((c: Json) => `${c.id}:${c.result}`), ['format:passed', 'proof:passed', 'challenge:passed', 'domain:passed', 'holder_binding:passed'])
    t.equal(body.credentialResults.length, 1)
    t.equal(body.credentialResults[0].status, 'valid')
    t.same(body.errors, [])
  })

  t.test('a presentation answering another challenge is refused by the challenge check (422)', async (t) => {
    const vp = await signPresentation(presentation([credential]), holder, 'an-old-challenge', DOMAIN)
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp, options: { challenge: CHALLENGE, domain: DOMAIN } })
    t.equal(statusCode, 422)
    t.equal(body.verified, false)
    t.match(checkOf(body, 'challenge'), { result: 'failed', message: /"an-old-challenge", not "8b5c2f1e/ })
    t.equal(checkOf(body, 'proof')?.result, 'passed', 'the signature itself is genuine')
    t.same(body.errors.map((e: Json) => e.id), ['presentation.challenge'])
  })

  t.test('a presentation for another domain is refused by the domain check (422)', async (t) => {
    const vp = await signPresentation(presentation([credential]), holder, CHALLENGE, 'evil.example.com')
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp, options: { challenge: CHALLENGE, domain: DOMAIN } })
    t.equal(statusCode, 422)
    t.match(checkOf(body, 'domain'), { result: 'failed', message: /"evil\.example\.com", not "verifier\.example\.org"/ })
  })

  t.test('a challenge asked for must be carried: a proof without one is refused', async (t) => {
    const vp = await signPresentation(presentation([credential]), holder, CHALLENGE)
    delete vp.proof.challenge
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp, options: { challenge: CHALLENGE } })
    t.equal(statusCode, 422)
    t.match(checkOf(body, 'challenge'), { result: 'failed', message: /carries no "challenge"/ })
  })

  t.test('a presentation changed after signing is refused by the proof check', async (t) => {
    const vp = await signPresentation(presentation([credential]), holder, CHALLENGE)
    vp.holder = holder.did
    vp.verifiableCredential = []
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp, options: { challenge: CHALLENGE } })
    t.equal(statusCode, 422)
    t.match(checkOf(body, 'proof'), { result: 'failed', message: /signature does not verify/ })
  })

  t.test('a genuine signature for "assertionMethod" is not a presentation proof', async (t) => {
    const vp = await signWithPurpose(presentation([credential]), holder, 'assertionMethod')
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp })
    t.equal(statusCode, 422)
    t.match(checkOf(body, 'proof'), { result: 'failed', message: /"proofPurpose" is "assertionMethod"; a presentation's proof must be "authentication"/ })
  })

  t.test('a presentation signed by someone other than its holder is refused by holder_binding', async (t) => {
    const stranger = await generateDidKey()
    const vp = await signPresentation(presentation([credential]), stranger, CHALLENGE)
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp, options: { challenge: CHALLENGE } })
    t.equal(statusCode, 422)
    t.equal(checkOf(body, 'proof')?.result, 'passed')
    t.match(checkOf(body, 'holder_binding'), { result: 'failed', message: new RegExp(`key of "${stranger.did}", not of its holder "${holder.did}"`) })
  })

  t.test('a genuine presentation carrying a tampered credential: the presentation verifies, that credential does not, so the answer is not verified', async (t) => {
    const tampered = structuredClone(credential)
    tampered.name = 'Example Fellowship'
    const vp = await signPresentation(presentation([credential, tampered]), holder, CHALLENGE)
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp, options: { challenge: CHALLENGE } })
    t.equal(statusCode, 422)
    t.equal(body.verified, false)
    t.equal(body.presentationResult.verified, true, 'the holder really presented both')
    t.same(body.credentialResults.map((r: Json) => r.status), ['valid', 'invalid'])
    t.equal(body.credentialResults[1].checks.find((c: Json) => c.id === 'proof').result, 'failed')
    t.equal(body.errors[0].id, 'verifiableCredential[1].proof', 'the first error names the credential and the check that refused it')
    t.ok(body.errors.every((e: Json) => (e.id as string).startsWith('verifiableCredential[1].')), 'nothing is wrong with the presentation or the first credential')
  })

  t.test('no challenge asked: verified, with a warning that replay is not excluded', async (t) => {
    const vp = await signPresentation(presentation([credential]), holder, CHALLENGE)
    const { statusCode, body } = await verify(app, { verifiablePresentation: vp })
    t.equal(statusCode, 200)
    t.match(body.warnings, [/No "challenge" was asked for/])
  })

  t.test('an unsigned presentation, an unknown context or a wrong type is refused; a body that is not a presentation is a 400', async (t) => {
    const unsigned = await verify(app, { verifiablePresentation: presentation([credential]) })
    t.equal(unsigned.statusCode, 422)
    t.match(checkOf(unsigned.body, 'proof'), { result: 'failed', message: /no "proof"/ })
    const unknownContext = await verify(app, { verifiablePresentation: { ...presentation([]), '@context': ['https://www.w3.org/ns/credentials/v2', 'https://contexts.example.org/wallet/v1'] } })
    t.match(checkOf(unknownContext.body, 'format'), { result: 'failed', message: /does not hold/ })
    const wrongType = await verify(app, { verifiablePresentation: { ...presentation([]), type: ['VerifiableCredential'] } })
    t.match(checkOf(wrongType.body, 'format'), { result: 'failed', message: /"VerifiablePresentation"/ })
    for (const body of [{ verifiablePresentation: 'eyJ.eyJ.sig' }, {}, { verifiablePresentation: {}, options: { nonce: 'x' } }]) {
      const response = await app.app.inject({ method: 'POST', url: '/presentations/verify', payload: body })
      t.equal(response.statusCode, 400, JSON.stringify(body))
      t.match(response.headers['content-type'], /^application\/problem\+json/)
    }
  })
})
