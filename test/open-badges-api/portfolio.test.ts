import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { ImsxError } from '../../src/capabilities/open-badges-api/imsx.js'
import { recheckStoredCredential, upsertPostedCredential, type PortfolioDeps, type PostedCredential } from '../../src/capabilities/open-badges-api/portfolio.js'
import { profileId, readProfile, updateProfile } from '../../src/capabilities/open-badges-api/profile.js'
import { deleteStoredCredential, listStoredCredentials, portfolioPage } from '../../src/capabilities/open-badges-api/store.js'
import { emptyBitstring, encodeList, withBitSet } from '../../src/capabilities/status-lists/bitstring.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import { BASE_URL, build, createAchievement, issue } from '../helpers/build-app.js'
import { ceBadge } from '../helpers/continuing-education.js'
import { generateDidKey, signCredential, type DidKey } from '../helpers/did-key-signing.js'

/**
 * The holder's portfolio behind POST/GET /credentials and the profile, as use
 * cases on a real database with real signatures: badges from other issuers
 * (did:key issuers made here, signed for real) are stored only when the
 * service's verifier passed them and their signed subject names the holder;
 * the newer validFrom wins; this service's own credentials are never stored
 * twice; and a page counts every credential once.
 */

type Json = Record<string, any>
const NOW = new Date('2026-12-04T12:00:00Z')
const app = await build(t, { clock: () => NOW, env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
await app.app.ready()
const deps = (): PortfolioDeps => ({ sql: app.sql, verifier: app.app.verifier, now: NOW, publicBaseUrl: BASE_URL })
const HOLDER = 'sam.lee@example.org'

const hashedEmail = (email: string, salt: string): Json =>
  ({ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, salt, identityHash: 'sha256$' + createHash('sha256').update(email + salt).digest('hex') })

/** A course provider's badge for `email` (hashed, salted), signed by `key`. */
async function foreignBadge (key: DidKey, email: string, o: { id?: string, validFrom?: string, subject?: Json } = {}): Promise<Json> {
  const subject = o.subject ?? { identifier: [hashedEmail(email, randomUUID())] }
  return await signCredential(ceBadge(key.did, { subject, ...(o.validFrom !== undefined ? { validFrom: o.validFrom } : {}), extra: o.id !== undefined ? { id: o.id } : {} }), key)
}

const asJson = (credential: Json): PostedCredential => ({ kind: 'json', text: JSON.stringify(credential), value: JSON.parse(JSON.stringify(credential)) })

async function refusal (t: Test, holder: string, posted: PostedCredential): Promise<ImsxError> {
  try {
    const outcome = await upsertPostedCredential(deps(), holder, posted)
    t.fail(`expected a refusal, got ${outcome}`)
  } catch (error) {
    if (error instanceof ImsxError) return error
    throw error
  }
  throw new Error('unreachable')
}

t.test('a badge from another issuer, addressed to the holder by hashed email: created, then the same copy is unchanged, a newer validFrom replaces it and an older one does not', async (t) => {
  const key = await generateDidKey()
  const id = `urn:uuid:${randomUUID()}`
  const first = await foreignBadge(key, HOLDER, { id, validFrom: '2026-03-01T00:00:00Z' })
  t.equal(await upsertPostedCredential(deps(), HOLDER, asJson(first)), 'created')
  t.equal(await upsertPostedCredential(deps(), HOLDER, asJson(first)), 'unchanged', 'the same copy again')
  const newer = await foreignBadge(key, HOLDER, { id, validFrom: '2026-06-01T00:00:00Z' })
  t.equal(await upsertPostedCredential(deps(), HOLDER, asJson(newer)), 'replaced')
  const older = await foreignBadge(key, HOLDER, { id, validFrom: '2026-04-01T00:00:00Z' })
  t.equal(await upsertPostedCredential(deps(), HOLDER, asJson(older)), 'unchanged', 'an older copy does not replace a newer one')

  const [stored, ...others] = (await listStoredCredentials(app.sql, HOLDER)).filter((s) => s.credentialId === id)
  t.equal(others.length, 0, 'one row for (issuer, id)')
  t.equal(stored?.issuerId, key.did)
  t.equal(stored?.document, JSON.stringify(newer), 'the newer copy, as posted')
  t.equal(stored?.compactJws, null)
  t.equal(stored?.verificationStatus, 'unverified_issuer', 'a did:key nobody recognised: a good signature by an unconfirmed issuer')
  t.equal(stored?.issuerName, 'Midwest Allied Health CE Institute')
  t.equal(stored?.achievementName, 'Infection Control Update 2026')
  t.ok(stored?.verification.checks.some((c) => c.id === 'proof' && c.result === 'passed'))
})

t.test('the recipient is matched on the signed subject: an emailAddress IdentityObject in clear or hashed, or mailto:; anything else is refused', async (t) => {
  const key = await generateDidKey()
  const clear = await foreignBadge(key, HOLDER, { subject: { identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: false, identityHash: 'Sam.Lee@Example.org' }] } })
  t.equal(await upsertPostedCredential(deps(), HOLDER, asJson(clear)), 'created', 'in clear, any case')
  const mailto = await foreignBadge(key, HOLDER, { subject: { id: 'mailto:sam.lee@example.org' } })
  t.equal(await upsertPostedCredential(deps(), HOLDER, asJson(mailto)), 'created', 'credentialSubject.id mailto:')

  for (const [what, subject] of [
    ['someone else\'s hashed email', { identifier: [hashedEmail('other@example.org', 'salt-1')] }],
    ['the holder\'s hash under another identity type', { identifier: [{ ...hashedEmail(HOLDER, 'salt-2'), identityType: 'sisSourcedId' }] }],
    ['a DID subject', { id: 'did:example:123' }],
    ['no recipient at all', {}]
  ] as const) {
    const badge = await foreignBadge(key, HOLDER, { subject })
    const error = await refusal(t, HOLDER, asJson(badge))
    t.equal(error.statusCode, 400, what)
    t.match(error.message, /not addressed to the signed-in holder/, what)
  }
})

t.test('forged, altered, expired, Open Badges 2.0 and not-a-credential bodies are refused with the verifier\'s words; nothing is stored', async (t) => {
  const key = await generateDidKey()
  const before = (await listStoredCredentials(app.sql, HOLDER)).length
  const badge = await foreignBadge(key, HOLDER)
  const altered = { ...badge, name: 'Advanced Phlebotomy' }
  const forged = await refusal(t, HOLDER, asJson(altered))
  t.equal(forged.statusCode, 400)
  t.equal(forged.codeMinor, 'invalid_data')
  t.match(forged.message, /did not pass verification/)
  t.match(forged.message, /signature|proof/i, 'the verifier\'s words on the proof')

  const expired = await signCredential(ceBadge(key.did, { subject: { identifier: [hashedEmail(HOLDER, 's')] }, extra: { validUntil: '2026-06-01T00:00:00Z' } }), key)
  t.match((await refusal(t, HOLDER, asJson(expired))).message, /found it expired/)

  t.match((await refusal(t, HOLDER, { kind: 'json', text: '{}', value: { '@context': 'https://w3id.org/openbadges/v2', type: 'Assertion', id: 'https://example.org/a/1', recipient: { type: 'email', identity: HOLDER }, badge: 'https://example.org/b/1', verification: { type: 'hosted' }, issuedOn: '2026-01-01' } })).message, /Open Badges 2\.0/)
  t.match((await refusal(t, HOLDER, { kind: 'jws', text: 'not.a.jws!' })).message, /not a credential/)
  t.match((await refusal(t, HOLDER, { kind: 'json', text: '[]', value: [] })).message, /not a credential/)
  t.equal((await listStoredCredentials(app.sql, HOLDER)).length, before, 'nothing stored')
})

t.test('a VC-JWT is verified and kept as the compact JWS it was posted as', async (t) => {
  const jwtKey = generateKeyPairSync('ed25519')
  const multibase = (await Ed25519Multikey.fromJwk({ jwk: jwtKey.publicKey.export({ format: 'jwk' }) })).publicKeyMultibase as string
  const did = `did:key:${multibase}`
  const unsigned = ceBadge(did, { subject: { identifier: [hashedEmail(HOLDER, 'jwt-salt')] } })
  const jwt = await new SignJWT({ ...unsigned, iss: did, jti: unsigned.id as string, nbf: Date.parse(unsigned.validFrom as string) / 1000 })
    .setProtectedHeader({ alg: 'EdDSA', kid: `${did}#${multibase}`, typ: 'vc+jwt' })
    .sign(jwtKey.privateKey)
  t.equal(await upsertPostedCredential(deps(), HOLDER, { kind: 'jws', text: jwt }), 'created')
  const stored = (await listStoredCredentials(app.sql, HOLDER)).find((s) => s.credentialId === unsigned.id)
  t.equal(stored?.compactJws, jwt)
  t.equal(stored?.document, null)
})

t.test('this service\'s own credentials are never stored: the holder\'s own is unchanged (already listed), someone else\'s is refused', async (t) => {
  const achievement = await createAchievement(app)
  const own = await issue(app, { achievementId: achievement.id, recipient: { name: 'Sam Lee', email: 'own@example.org' } })
  t.equal(await upsertPostedCredential(deps(), 'own@example.org', asJson(own.credential)), 'unchanged')
  t.equal(await upsertPostedCredential(deps(), 'own@example.org', { kind: 'jws', text: own.jwt }), 'unchanged', 'its VC-JWT too')
  t.match((await refusal(t, 'someone@example.org', asJson(own.credential))).message, /issued by this service to someone else/)
  t.same(await listStoredCredentials(app.sql, 'own@example.org'), [])
})

t.test('a page of the holder\'s credentials counts each once: this service\'s (not revoked, current version, both forms) and the stored ones, newest first, with since', async (t) => {
  const email = 'pager@example.org'
  const achievement = await createAchievement(app, { name: 'Pager', description: 'Paging.', criteria: { narrative: 'Paged.' } })
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Pat Pager', email } })
  const revoked = await issue(app, { achievementId: (await createAchievement(app, { name: 'Revoked', description: 'R.', criteria: { narrative: 'R.' } })).id, recipient: { name: 'Pat Pager', email } })
  const revocation = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${revoked.id}/revoke`, headers: app.auth, payload: { reason: 'Issued in error' } })
  t.equal(revocation.statusCode, 200)
  const key = await generateDidKey()
  for (let i = 0; i < 3; i++) t.equal(await upsertPostedCredential(deps(), email, asJson(await foreignBadge(key, email))), 'created')

  const all = await portfolioPage(app.sql, { holderEmail: email, limit: 10, offset: 0 })
  t.equal(all.total, 4, 'one issued (the revoked one left out) and three stored')
  const own = all.items.filter((i) => i.source === 'issued')
  t.equal(own.length, 1)
  t.equal(JSON.parse(own[0]!.document!).id, issued.url)
  t.equal(own[0]!.compactJws, issued.jwt, 'the issued credential in both forms')
  const pages = [await portfolioPage(app.sql, { holderEmail: email, limit: 3, offset: 0 }), await portfolioPage(app.sql, { holderEmail: email, limit: 3, offset: 3 })]
  t.same(pages.map((p) => p.items.length), [3, 1])
  t.same(pages.map((p) => p.total), [4, 4])
  t.same(pages.flatMap((p) => p.items), all.items, 'the pages are the whole, in order')
  t.equal((await portfolioPage(app.sql, { holderEmail: email, limit: 3, offset: 30 })).items.length, 0)
  t.equal((await portfolioPage(app.sql, { holderEmail: email, limit: 10, offset: 0, since: new Date(NOW.getTime() + 1000) })).total, 0, 'nothing issued or stored after now')
  t.equal((await portfolioPage(app.sql, { holderEmail: 'nobody@example.org', limit: 10, offset: 0 })).total, 0)

  for (const item of all.items) {
    const input = item.document !== null ? JSON.parse(item.document) : item.compactJws
    const result = await verifyCredential(input, { ...app.app.verifier, now: NOW })
    t.ok(['valid', 'unverified_issuer'].includes(result.status), `${item.source}: verifies (${result.status})`)
    if (item.source === 'issued') t.equal((await verifyCredential(item.compactJws, { ...app.app.verifier, now: NOW })).status, 'valid', 'its VC-JWT too')
  }

  const stored = await listStoredCredentials(app.sql, email)
  t.ok(await deleteStoredCredential(app.sql, email, stored[0]!.id))
  t.notOk(await deleteStoredCredential(app.sql, 'pager2@example.org', stored[1]!.id), 'only the holder\'s own')
  t.equal((await portfolioPage(app.sql, { holderEmail: email, limit: 10, offset: 0 })).total, 3)
})

t.test('the profile: a stable id others cannot guess, the name of the latest credential; kept fields update, name and email changes go to staff', async (t) => {
  const email = 'prof@example.org'
  const achievement = await createAchievement(app, { name: 'Profile', description: 'P.', criteria: { narrative: 'P.' } })
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Pro Filer', email } })
  const id = await profileId(app.sql, email)
  t.match(id, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.equal(await profileId(app.sql, email), id, 'stable')
  t.not(await profileId(app.sql, 'other@example.org'), id)
  t.same(await readProfile(app.sql, email), { id, type: ['Profile'], name: 'Pro Filer', email })

  const update = { sql: app.sql, now: NOW }
  t.same(await updateProfile(update, email, { id, name: 'Pro Filer', email }, 'client-1'), { kind: 'unchanged' })
  const updated = await updateProfile(update, email, { id, description: 'Medical assistant in Ohio', url: 'https://pro.example.org' }, 'client-1')
  t.same(updated, { kind: 'updated', profile: { id, type: ['Profile'], name: 'Pro Filer', email, description: 'Medical assistant in Ohio', url: 'https://pro.example.org' } })
  t.same(await updateProfile(update, email, { id, description: 'Medical assistant in Ohio', url: 'https://pro.example.org' }, 'client-1'), { kind: 'unchanged' })

  const renamed = await updateProfile(update, email, { id, name: 'Pro M. Filer', description: 'Medical assistant in Ohio', url: 'https://pro.example.org' }, 'client-1')
  t.equal(renamed.kind, 'accepted')
  const requests = await app.sql<Array<{ credentialId: string, field: string, value: string, note: string }>>`
    select credential_id as "credentialId", correction_field as field, correction_value as value, note from orders where type = 'correction' and email = ${email}`
  t.same(requests.map((r) => [r.credentialId, r.field, r.value]), [[issued.id, 'name', 'Pro M. Filer']], 'a correction request, as the portal files')
  t.match(requests[0]?.note, /Open Badges API.*client-1/)
  t.same(await readProfile(app.sql, email), { id, type: ['Profile'], name: 'Pro Filer', email, description: 'Medical assistant in Ohio', url: 'https://pro.example.org' }, 'the name changes when staff approve')

  try {
    await updateProfile(update, email, { id: 'urn:uuid:00000000-0000-8000-8000-000000000000' }, 'client-1')
    t.fail('another profile id was accepted')
  } catch (error) {
    t.ok(error instanceof ImsxError && error.statusCode === 400 && /"id" must be this holder's profile id/.test(error.message))
  }
})

t.test('a badge its issuer revokes is refused when posted, and one revoked after it was stored shows as revoked when checked again', async (t) => {
  const key = await generateDidKey()
  const provider = Fastify()
  const served = new Map<string, string>()
  provider.get('/*', async (request, reply) => {
    const body = served.get(request.url)
    return body === undefined ? await reply.code(404).send('not here') : await reply.type('application/json').header('Cache-Control', 'no-store').send(body)
  })
  await provider.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await provider.close() })
  const list = `http://127.0.0.1:${(provider.server.address() as AddressInfo).port}/status/1`
  const publish = async (revoked: number[]): Promise<void> => {
    served.set('/status/1', JSON.stringify(await signCredential({
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id: list,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: key.did,
      validFrom: '2026-01-01T00:00:00Z',
      credentialSubject: { id: `${list}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeList(revoked.reduce((bits, index) => withBitSet(bits, index), emptyBitstring(131_072))) }
    }, key)))
  }
  const withStatus = async (index: number): Promise<Json> => await signCredential(ceBadge(key.did, {
    subject: { identifier: [hashedEmail(HOLDER, randomUUID())] },
    extra: { credentialStatus: { id: `${list}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: list } }
  }), key)
  await publish([5])
  t.match((await refusal(t, HOLDER, asJson(await withStatus(5)))).message, /found it revoked/)

  const later = await withStatus(9)
  t.equal(await upsertPostedCredential(deps(), HOLDER, asJson(later)), 'created')
  const stored = (await listStoredCredentials(app.sql, HOLDER)).find((s) => s.credentialId === later.id)!
  await publish([5, 9])
  const checked = await recheckStoredCredential(deps(), HOLDER, stored.id)
  t.equal(checked?.status, 'revoked')
  t.equal((await listStoredCredentials(app.sql, HOLDER)).find((s) => s.id === stored.id)?.verificationStatus, 'revoked', 'the new verdict is kept; the badge stays until the holder removes it')
  t.equal(await recheckStoredCredential(deps(), 'someone@example.org', stored.id), undefined, 'only the holder\'s own')
})
