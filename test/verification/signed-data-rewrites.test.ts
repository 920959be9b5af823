import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { bakePng } from '../../src/capabilities/bake/png.js'
import type { IssuerSigningKeys } from '../../src/capabilities/keys/key-ring.js'
import type { VerificationResult, VerificationStatus } from '../../src/capabilities/verification/result.js'
import { noSources, type VerificationSources } from '../../src/capabilities/verification/sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import { build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { FIELDS, REWRITES, resignDataIntegrity, resignJwt, withDuplicatedKey, type Field, type Rewrite } from '../helpers/signed-data-rewrites.js'

// Every way the team could think of to write a credential of ours so that a
// reader of its plain JSON misses a field, re-signed with the issuer's own
// key so that the proof passes: on every route that verifies, none may come
// out better than the credential it was made from, and a credential that is
// not valid must never come out valid.

type Json = Record<string, any>
const ISSUED_AT = new Date('2026-11-20T12:00:00Z')
const CORRECTED_AT = new Date('2026-11-21T12:00:00Z')
const NOW = new Date('2026-11-24T12:00:00Z')

/** deriveStatus's order of seriousness, from least to most. */
const SERIOUSNESS: Record<VerificationStatus, number> = { valid: 0, unverified_issuer: 1, indeterminate: 2, not_yet_valid: 3, expired: 4, superseded: 5, revoked: 6, invalid: 7 }
/** The verify page's banner tones in the same order. */
const TONE_SERIOUSNESS: Record<string, number> = { valid: 0, pending: 3, expired: 4, superseded: 5, revoked: 6, invalid: 7 }
const TONE_OF: Record<VerificationStatus, string> = { valid: 'valid', unverified_issuer: 'invalid', indeterminate: 'invalid', not_yet_valid: 'pending', expired: 'expired', superseded: 'superseded', revoked: 'revoked', invalid: 'invalid' }

interface Original { label: 'valid' | 'expired' | 'revoked' | 'superseded', id: string, version: number, credential: Json, jwt: string, status: VerificationStatus }

let clockNow = ISSUED_AT

async function setUp (t: Test): Promise<{ app: TestApp, keys: IssuerSigningKeys, originals: Original[] }> {
  const app = await build(t, { clock: () => clockNow })
  clockNow = ISSUED_AT
  const achievement = await createAchievement(app)
  const recipient = (name: string): Json => ({ name, email: `${name.toLowerCase().replace(/\W/g, '')}@example.org` })
  const valid = await issue(app, { achievementId: achievement.id, recipient: recipient('Val Id') })
  const expired = await issue(app, { achievementId: achievement.id, recipient: recipient('Ex Pired'), validFrom: '2021-03-31T00:00:00Z' })
  const revoked = await issue(app, { achievementId: achievement.id, recipient: recipient('Re Voked') })
  const superseded = await issue(app, { achievementId: achievement.id, recipient: recipient('Su Perseded') })
  clockNow = CORRECTED_AT
  const revoking = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${revoked.id}/revoke`, headers: app.auth, payload: { reason: 'Annulled' } })
  if (revoking.statusCode !== 200) throw new Error(revoking.body)
  const correcting = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${superseded.id}/reissue`, headers: app.auth, payload: { reason: 'correction', recipient: { name: 'Su Persede' } } })
  if (correcting.statusCode !== 201) throw new Error(correcting.body)
  clockNow = NOW
  const keys = app.keyRing.signingKeys('main')
  if (keys === undefined) throw new Error('no signing keys')
  const originals: Original[] = []
  for (const [label, issued] of [['valid', valid], ['expired', expired], ['revoked', revoked], ['superseded', superseded]] as const) {
    const result = await postJson(app, { verifiableCredential: issued.credential })
    originals.push({ label, id: issued.id, version: issued.version, credential: issued.credential, jwt: issued.jwt, status: result.status })
  }
  return { app, keys, originals }
}

async function postJson (app: TestApp, body: unknown): Promise<VerificationResult> {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) })
  return response.json()
}

/** The routes that verify, each answering a seriousness (deriveStatus order) for one rewritten credential. */
interface Attempt { app: TestApp, original: Original, text: string, jwt: string }
type Route = (attempt: Attempt) => Promise<{ seriousness: number, answer: string }>

const fromResult = (result: VerificationResult): { seriousness: number, answer: string } => ({ seriousness: SERIOUSNESS[result.status], answer: result.status })

function verifyPage (app: TestApp, part: string): Promise<{ seriousness: number, answer: string }> {
  const boundary = 'REWRITEBOUNDARY'
  const payload = Buffer.from(`--${boundary}\r\n${part}\r\n--${boundary}--\r\n`, part.includes('image/png') ? 'latin1' : 'utf8')
  return app.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
    .then((response) => {
      const tone = /banner--([a-z]+)/.exec(response.body)?.[1] ?? 'invalid'
      // A page answers 200 only for a valid credential; its banner says how bad the rest is.
      return { seriousness: response.statusCode === 200 ? 0 : Math.max(1, TONE_SERIOUSNESS[tone] ?? 7), answer: `${response.statusCode} ${tone}` }
    })
}

const ROUTES: Record<string, Route> = {
  'POST /credentials/verify (JSON-LD)': async ({ app, text }) => fromResult(await postJson(app, `{"verifiableCredential":${text}}`)),
  'POST /credentials/verify (VC-JWT)': async ({ app, jwt }) => fromResult(await postJson(app, { verifiableCredential: jwt })),
  'POST /credentials/verify (baked PNG)': async ({ app, original, text }) => {
    const png = await app.app.inject({ method: 'GET', url: `/credentials/${original.id}/badge.png` })
    const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'image/png' }, payload: bakePng(png.rawPayload, text) })
    return response.statusCode === 400 ? { seriousness: 7, answer: '400' } : fromResult(response.json())
  },
  'POST /verify page (pasted JSON)': async ({ app, text }) => await verifyPage(app, `Content-Disposition: form-data; name="credential"\r\n\r\n${text}`),
  'POST /verify page (pasted VC-JWT)': async ({ app, jwt }) => await verifyPage(app, `Content-Disposition: form-data; name="credential"\r\n\r\n${jwt}`),
  'POST /verify page (uploaded baked PNG)': async ({ app, original, text }) => {
    const png = await app.app.inject({ method: 'GET', url: `/credentials/${original.id}/badge.png` })
    const baked = bakePng(png.rawPayload, text).toString('latin1')
    return await verifyPage(app, `Content-Disposition: form-data; name="image"; filename="badge.png"\r\nContent-Type: image/png\r\n\r\n${baked}`)
  },
  'GET /credentials/:id/verification (stored document rewritten)': async ({ app, original, text }) => {
    // The stored current version replaced by the rewrite, as an attacker with write access to the rows would; put back after.
    const [row] = await app.sql<Array<{ document: string }>>`select document from credential_versions where credential_id = ${original.id} and version = ${original.version}`
    await app.sql`update credential_versions set document = ${text} where credential_id = ${original.id} and version = ${original.version}`
    try {
      const response = await app.app.inject({ method: 'GET', url: `/credentials/${original.id}/verification` })
      return fromResult(response.json())
    } finally {
      await app.sql`update credential_versions set document = ${row!.document} where credential_id = ${original.id} and version = ${original.version}`
    }
  }
}

/** The stored-document route checks the current version only: a superseded version cannot be reached through it. */
const reaches = (route: string, original: Original): boolean => !(route.startsWith('GET') && original.label === 'superseded')

interface Plan { rewrites: Array<{ rewrite: Rewrite, field: Field }>, duplicate?: { field: Field, where: 'before' | 'after' } }

/** Applies a plan to the credential, re-signs it both ways, and returns the texts each route sends. */
async function attack (app: TestApp, keys: IssuerSigningKeys, original: Original, plan: Plan): Promise<Attempt | undefined> {
  let doc: Json = structuredClone(original.credential)
  let applied = 0
  for (const { rewrite, field } of plan.rewrites) {
    if (!rewrite.applies(doc, field)) continue
    doc = rewrite.apply(doc, field)
    applied++
  }
  if (applied === 0 && plan.duplicate === undefined) return undefined
  let signed: Json
  try {
    signed = await resignDataIntegrity(doc, keys.dataIntegrity, NOW)
  } catch {
    // A rewrite the signer itself refuses (JSON-LD safe mode) is no credential at all.
    return undefined
  }
  let text = JSON.stringify(signed)
  let jwtText = JSON.stringify((({ proof: _, ...rest }) => rest)(doc))
  if (plan.duplicate !== undefined) {
    text = withDuplicatedKey(text, plan.duplicate.field, plan.duplicate.where)
    jwtText = withDuplicatedKey(jwtText, plan.duplicate.field, plan.duplicate.where)
  }
  return { app, original, text, jwt: await resignJwt(jwtText, original.jwt, keys.jwt) }
}

function assertNeverBetter (t: Test, original: Original, route: string, what: string, outcome: { seriousness: number, answer: string }): void {
  const originalOnRoute = route.includes('page') ? TONE_SERIOUSNESS[TONE_OF[original.status]]! : SERIOUSNESS[original.status]
  const better = outcome.seriousness < originalOnRoute || (original.status !== 'valid' && outcome.seriousness === 0)
  // One assertion per attempt that fails loudly; passing ones are counted, not listed.
  if (better) t.fail(`${original.label} (${original.status}), ${what}, ${route}: answered ${outcome.answer}, better than the original`)
  else t.pass(`${original.label}, ${what}, ${route}: ${outcome.answer}`)
}

t.test('the originals: valid, expired, revoked and superseded as issued', async (t) => {
  const { originals } = await setUp(t)
  t.same(originals.map((o) => [o.label, o.status]), [['valid', 'valid'], ['expired', 'expired'], ['revoked', 'revoked'], ['superseded', 'superseded']])
})

t.test('every rewrite class, of every field, of every original, on every route, is never better than the original', async (t) => {
  const { app, keys, originals } = await setUp(t)
  const classes = new Set<string>()
  for (const original of originals) {
    for (const rewrite of REWRITES) {
      for (const field of FIELDS) {
        const attempt = await attack(app, keys, original, { rewrites: [{ rewrite, field }] })
        if (attempt === undefined) continue
        classes.add(rewrite.name)
        for (const [route, run] of Object.entries(ROUTES)) {
          if (reaches(route, original)) assertNeverBetter(t, original, route, `${rewrite.name} (${field})`, await run(attempt))
        }
      }
    }
    for (const field of FIELDS) {
      for (const where of ['before', 'after'] as const) {
        const attempt = await attack(app, keys, original, { rewrites: [], duplicate: { field, where } })
        classes.add('a duplicated key')
        for (const [route, run] of Object.entries(ROUTES)) {
          if (reaches(route, original)) assertNeverBetter(t, original, route, `"${field}" duplicated ${where} the real one`, await run(attempt!))
        }
      }
    }
  }
  t.same([...classes].sort(), [...REWRITES.map((r) => r.name), 'a duplicated key'].sort(), 'every rewrite class was tried at least once')
})

t.test('the rewrites that keep the canonical N-Quads need no new signature, and are still refused by name', async (t) => {
  const { app, originals } = await setUp(t)
  const expired = originals.find((o) => o.label === 'expired')!
  const revoked = originals.find((o) => o.label === 'revoked')!
  const sameGraph: Array<[Original, string, Json]> = [
    [expired, 'validUntil as a typed value object', { ...expired.credential, validUntil: { '@value': expired.credential.validUntil, '@type': 'http://www.w3.org/2001/XMLSchema#dateTime' } }],
    [expired, 'validUntil restated in refreshService', (({ validUntil, ...rest }) => ({ ...rest, refreshService: { ...rest.refreshService, type: ['1EdTechCredentialRefresh', 'VerifiableCredential'], validUntil } }))(expired.credential)],
    [revoked, 'credentialStatus restated in refreshService', (({ credentialStatus, ...rest }) => ({ ...rest, refreshService: { ...rest.refreshService, type: ['1EdTechCredentialRefresh', 'VerifiableCredential'], credentialStatus } }))(revoked.credential)],
    [revoked, 'credentialStatus in @included with the credential\'s id', (({ credentialStatus, ...rest }) => ({ ...rest, '@included': [{ id: rest.id, type: ['VerifiableCredential'], credentialStatus }] }))(revoked.credential)]
  ]
  for (const [original, what, rewritten] of sameGraph) {
    const result = await postJson(app, { verifiableCredential: rewritten })
    t.equal(result.checks.find((c) => c.id === 'proof')?.result, 'passed', `${what}: the original signature still verifies`)
    t.equal(result.status, 'invalid', `${what}: invalid, not ${original.status} or better`)
    const judgement = result.checks.find((c) => c.id === 'signed_data')
    t.equal(judgement?.result, 'failed', `${what}: the signed_data check fails`)
    t.match(judgement?.message, /refreshService|@included|validUntil/, `${what}: and names where: ${judgement?.message ?? ''}`)
  }
})

t.test('an honest credential costs the judgement one walk: it passes, saying the JSON states what was signed', async (t) => {
  const { app, originals } = await setUp(t)
  const result = await postJson(app, { verifiableCredential: originals[0]!.credential })
  t.same(result.checks.find((c) => c.id === 'signed_data'), { id: 'signed_data', result: 'passed', message: 'The credential\'s JSON states exactly what its proof signed.' })
})

t.test('a foreign expired credential from a trusted issuer (inline contexts pass the format check there) is never better under any rewrite', async (t) => {
  const key = await Ed25519Multikey.generate()
  const issuer = 'https://registry.example.org/issuers/1'
  const keyPair = await Ed25519Multikey.from({ ...(await key.export({ publicKey: true, secretKey: true })), id: `${issuer}#${key.publicKeyMultibase}`, controller: issuer })
  const foreignKey = { keyId: 'foreign', verificationMethod: keyPair.id, keyPair } as unknown as IssuerSigningKeys['dataIntegrity']
  const unsigned: Json = {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:0b6f5a2e-6a0c-4d52-9d2b-4a1f5d6e7c80',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Example Registry' },
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2025-01-01T00:00:00Z',
    name: 'Phlebotomy Technician',
    credentialSubject: { type: ['AchievementSubject'], achievement: { id: 'https://registry.example.org/achievements/pt', type: ['Achievement'], name: 'Phlebotomy Technician', description: 'Certified.', criteria: { narrative: 'Passed the exam.' } } },
    refreshService: { id: 'urn:uuid:0b6f5a2e-6a0c-4d52-9d2b-4a1f5d6e7c80', type: '1EdTechCredentialRefresh' }
  }
  unsigned['@context'].push('https://purl.imsglobal.org/spec/ob/v3p0/extensions.json')
  const trusting: VerificationSources = { ...noSources, recognisedIssuer: async (id) => ({ entryId: 'test-entry', name: id }) }
  const verify = async (doc: unknown): Promise<VerificationResult> => await verifyCredential(doc, { now: NOW, sources: trusting })
  const original = await verify(await resignDataIntegrity(unsigned, foreignKey, NOW))
  t.equal(original.status, 'expired', 'as signed, it is expired')
  let judged = 0
  for (const rewrite of REWRITES) {
    for (const field of FIELDS) {
      if (!rewrite.applies(unsigned, field)) continue
      let signed: Json
      try {
        signed = await resignDataIntegrity(rewrite.apply(unsigned, field), foreignKey, NOW)
      } catch { continue }
      const result = await verify(signed)
      t.ok(SERIOUSNESS[result.status] >= SERIOUSNESS.expired, `${rewrite.name} (${field}): ${result.status}`)
      // Without validUntil the credential is still well formed: only the judgement can tell (a @graph wrapper fails format first).
      if (field === 'validUntil' && !rewrite.name.includes('@graph')) {
        t.equal(result.checks.find((c) => c.id === 'signed_data')?.result, 'failed', `${rewrite.name} (${field}): refused by the signed_data check itself`)
        judged++
      }
    }
  }
  t.ok(judged >= 10, `${judged} hidden-expiry rewrites refused by the judgement itself`)
})

t.test('property: random combinations of rewrites, on a random route, are never better than the original', async (t) => {
  const { app, keys, originals } = await setUp(t)
  const step = fc.record({ rewrite: fc.constantFrom(...REWRITES), field: fc.constantFrom(...FIELDS) })
  const plan = fc.record({
    rewrites: fc.array(step, { minLength: 1, maxLength: 4 }),
    duplicate: fc.option(fc.record({ field: fc.constantFrom(...FIELDS), where: fc.constantFrom('before' as const, 'after' as const) }), { nil: undefined })
  })
  const routes = Object.keys(ROUTES)
  let tried = 0
  await fc.assert(fc.asyncProperty(fc.constantFrom(...originals), plan, fc.constantFrom(...routes), async (original, p, route) => {
    const attempt = await attack(app, keys, original, p.duplicate === undefined ? { rewrites: p.rewrites } : { rewrites: p.rewrites, duplicate: p.duplicate })
    if (attempt === undefined || !reaches(route, original)) return
    tried++
    const outcome = await ROUTES[route]!(attempt)
    const originalOnRoute = route.includes('page') ? TONE_SERIOUSNESS[TONE_OF[original.status]]! : SERIOUSNESS[original.status]
    if (outcome.seriousness < originalOnRoute || (original.status !== 'valid' && outcome.seriousness === 0)) {
      throw new Error(`${original.label}: ${p.rewrites.map((r) => `${r.rewrite.name} (${r.field})`).join(' then ')}${p.duplicate !== undefined ? `, "${p.duplicate.field}" duplicated ${p.duplicate.where}` : ''} on ${route} answered ${outcome.answer}`)
    }
  }), { numRuns: Number(process.env.REWRITE_RUNS ?? 60), seed: process.env.REWRITE_SEED === undefined ? undefined : Number(process.env.REWRITE_SEED) })
  t.ok(tried > 0, `${tried} combinations tried`)
})
