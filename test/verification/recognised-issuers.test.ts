import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import t from 'tap'
import { connect } from '../../src/infrastructure/db/connect.js'
import { signDataIntegrity } from '../../src/infrastructure/signing/sign.js'
import { publicUrls } from '../../src/kernel/public-urls.js'
import { recognisedIssuers } from '../../src/capabilities/registry/lookup.js'
import { databaseSources } from '../../src/capabilities/verification/database-sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import { BASE_URL, build, buildSecondInstance, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { waitFor } from '../helpers/notifications.js'

/**
 * The verifier asks the registry of recognised issuers: a foreign issuer
 * known only by its own key (here a did:key) is unverified_issuer until staff
 * add it, valid (naming the entry) while it is there, and unverified_issuer
 * again once removed, on every instance (the change feed). A registry that
 * cannot be read is indeterminate, never valid.
 */

type Json = Record<string, any>
const NOW = new Date('2026-12-04T12:00:00Z')

/** A plain Open Badges 3.0 credential by a did:key issuer, signed with that key (eddsa-rdfc-2022). */
async function didKeyCredential (): Promise<{ did: string, credential: Json }> {
  const key = await Ed25519Multikey.generate()
  const did = `did:key:${key.publicKeyMultibase as string}`
  const verificationMethod = `${did}#${key.publicKeyMultibase as string}`
  const keyPair = await Ed25519Multikey.from({ ...(await key.export({ publicKey: true, secretKey: true })), id: verificationMethod, controller: did })
  const unsigned = {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:4f0c8a52-1b7e-4d0a-9e55-3c2f1d9a7b10',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: did, type: ['Profile'], name: 'Regional Board of Medical Assisting' },
    validFrom: '2026-01-01T00:00:00Z',
    name: 'Infection Control CE',
    credentialSubject: {
      type: ['AchievementSubject'],
      achievement: { id: 'urn:uuid:8e1d2c3b-4a59-4f6e-8d7c-0b1a2f3e4d5c', type: ['Achievement'], name: 'Infection Control CE', description: 'Two hours of continuing education.', criteria: { narrative: 'Attended the course.' } }
    }
  }
  return { did, credential: await signDataIntegrity(unsigned as any, { keyId: 'test', verificationMethod, keyPair }, NOW) as Json }
}

const verifyApi = async (app: TestApp, credential: Json): Promise<{ statusCode: number, body: Json }> => {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
  return { statusCode: response.statusCode, body: response.json() }
}
const keyBinding = (body: Json): Json | undefined => (body.checks as Json[]).find((c) => c.id === 'key_binding')

async function verifyPage (app: TestApp, credential: Json): Promise<string> {
  const boundary = 'recognised-issuers-test'
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n${JSON.stringify(credential)}\r\n--${boundary}--\r\n`
  const response = await app.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
  // Only the result: the form above it echoes the pasted text, and the header names our issuer on every page.
  return response.body.slice(response.body.indexOf('</form>'), response.body.indexOf('<footer'))
}

t.test('a did:key issuer is unverified_issuer, valid with the registry entry named while recognised, and unverified_issuer once removed, on both instances', async (t) => {
  const a = await build(t, { clock: () => NOW })
  const b = await buildSecondInstance(t, a)
  const { did, credential } = await didKeyCredential()

  const before = await verifyApi(a, credential)
  t.equal(before.statusCode, 422)
  t.equal(before.body.status, 'unverified_issuer', 'genuine, but nobody recognises the issuer')
  t.notOk('recognisedIssuer' in before.body)
  t.equal(keyBinding(before.body)?.reason, 'self_asserted')
  t.match(keyBinding(before.body)?.message, 'registry does not recognise the issuer')
  t.equal((await verifyApi(b, credential)).body.status, 'unverified_issuer', 'b too (and b now holds its copy of the registry)')
  const unrecognisedPage = await verifyPage(a, credential)
  t.match(unrecognisedPage, `This issuer is known only by its own key: ${a.config.issuer.name} does not recognise it.`, 'the page warns plainly')
  t.notMatch(unrecognisedPage, 'Recognised by')

  const added = await a.app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: a.auth, payload: { issuerId: did, name: 'Regional Board of Medical Assisting', note: 'Key confirmed by phone.' } })
  t.equal(added.statusCode, 201)
  const entryId = added.json().id as string

  const recognised = await verifyApi(a, credential)
  t.equal(recognised.statusCode, 200)
  t.equal(recognised.body.status, 'valid', 'the instance that added it recognises the issuer at once')
  t.same(recognised.body.recognisedIssuer, { entryId, name: 'Regional Board of Medical Assisting' }, 'the result names the entry (the response schema keeps it)')
  t.equal(keyBinding(recognised.body)?.result, 'passed')
  t.match(keyBinding(recognised.body)?.message, `is recognised by this deployment as "Regional Board of Medical Assisting" (registry entry ${entryId})`)
  const page = await verifyPage(a, credential)
  t.match(page, `Recognised by ${a.config.issuer.name} as Regional Board of Medical Assisting`, 'the page says who recognised the issuer, and as what')
  t.notMatch(page, 'known only by its own key')

  const onB = await waitFor('b to hear of the addition', async () => {
    const result = await verifyApi(b, credential)
    return result.body.status === 'valid' ? result : undefined
  }, 5000)
  t.same(onB.body.recognisedIssuer, { entryId, name: 'Regional Board of Medical Assisting' }, 'b recognises it through the change feed')

  t.equal((await b.app.inject({ method: 'DELETE', url: `/api/v1/registry/issuers/${entryId}`, headers: b.auth })).statusCode, 200)
  const removed = await verifyApi(b, credential)
  t.equal(removed.body.status, 'unverified_issuer', 'removed on b: b stops recognising it at once')
  t.notOk('recognisedIssuer' in removed.body)
  await waitFor('a to hear of the removal', async () => (await verifyApi(a, credential)).body.status === 'unverified_issuer' ? true : undefined, 5000)
  t.pass('a stops recognising it through the change feed')
})

t.test('an issuer seeded by TRUSTED_ISSUERS is recognised through the registry under the id as its name', async (t) => {
  const { did, credential } = await didKeyCredential()
  const app = await build(t, { clock: () => NOW, env: { TRUSTED_ISSUERS: did } })
  const result = await verifyApi(app, credential)
  t.equal(result.body.status, 'valid')
  t.equal(result.body.recognisedIssuer?.name, did, 'the seeded entry, named by its id')
})

t.test('our own credentials carry no recognisedIssuer', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { email: 'pat@example.org', name: 'Pat' } })
  const result = await verifyApi(app, issued.credential)
  t.equal(result.body.status, 'valid')
  t.notOk('recognisedIssuer' in result.body)
})

t.test('a registry that cannot be read makes a foreign credential indeterminate, never valid', async (t) => {
  const { credential } = await didKeyCredential()
  // A real connection attempt to a port where nothing listens.
  const down = connect('postgres://postgres@127.0.0.1:1/none', { max: 1 })
  t.teardown(async () => { await down.end({ timeout: 1 }) })
  const result = await verifyCredential(credential, { now: NOW, sources: databaseSources(down, publicUrls(BASE_URL), recognisedIssuers(down)) })
  t.equal(result.status, 'indeterminate')
  t.equal(result.verified, false)
  t.notOk('recognisedIssuer' in result)
  t.match(result.checks.find((c) => c.id === 'format')?.message, 'registry of recognised issuers could not be read')
})
