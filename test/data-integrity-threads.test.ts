import t from 'tap'
import runTask, { type VerifyResult } from '../src/infrastructure/signing/tasks.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'

/**
 * Data Integrity work on worker threads gives the same answers as on the
 * event loop: the same signature bytes (Ed25519 is deterministic), the same
 * verification results for a good, a tampered and an unresolvable proof.
 */

t.test('signing and verifying on the threads match the inline results', async (t) => {
  const app = await build(t, { env: { DATA_INTEGRITY_THREADS: '2' } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const pool = app.app.dataIntegrity
  t.ok(pool.threads >= 1, `${pool.threads} thread(s) running after issuing`)

  const keys = app.keyRing.signingKeys('main')
  if (keys === undefined) throw new Error('no keys')
  const exported = await keys.dataIntegrity.keyPair.export({ publicKey: true, secretKey: true, includeContext: false }) as { publicKeyMultibase: string, secretKeyMultibase: string }
  const key = { id: keys.dataIntegrity.verificationMethod, controller: String(keys.dataIntegrity.keyPair.controller), ...exported }
  const { proof: _proof, ...unsigned } = issued.credential
  const task = { kind: 'sign' as const, credential: unsigned, key, created: '2026-11-25T12:00:00Z' }
  const threaded = await pool.run<Record<string, any>>(task)
  const inline = await runTask(structuredClone(task)) as Record<string, any>
  t.same(threaded, inline, 'the same signed document, byte for byte')
  t.match(threaded.proof.proofValue, /^z/)

  const controller = (await app.app.inject({ url: '/issuers/main', headers: { accept: 'application/ld+json' } })).json()
  const documents = {
    [key.id]: { '@context': 'https://w3id.org/security/multikey/v1', id: key.id, type: 'Multikey', controller: key.controller, publicKeyMultibase: key.publicKeyMultibase },
    [key.controller]: { '@context': 'https://www.w3.org/ns/did/v1', id: controller.id, assertionMethod: [key.id] }
  }
  const verify = (document: Record<string, unknown>, docs = documents) => ({ kind: 'verify' as const, document, suites: ['DataIntegrityProof/eddsa-rdfc-2022'], documents: docs })
  const good = { ...issued.credential, proof: issued.credential.proof }
  const tampered = { ...good, credentialSubject: { ...issued.credential.credentialSubject, id: 'urn:uuid:00000000-0000-4000-8000-000000000000' } }
  for (const [label, input] of [['good', verify(good)], ['tampered', verify(tampered)], ['no key document', verify(good, {})]] as const) {
    const onThread = await pool.run<VerifyResult>(input)
    const onLoop = await runTask(structuredClone(input)) as VerifyResult
    t.same(onThread, onLoop, `${label}: the same result`)
  }
  t.equal((await pool.run<VerifyResult>(verify(good))).results[0]?.verified, true)
  t.equal((await pool.run<VerifyResult>(verify(tampered))).results[0]?.verified, false)
  t.match((await pool.run<VerifyResult>(verify(good, {}))), { results: [{ verified: false, error: { missingUrl: key.id } }] })
})

t.test('each app has its own Data Integrity threads, with its own settings, ended when it closes', async (t) => {
  const threaded = await build(t, { env: { DATA_INTEGRITY_THREADS: '2' } })
  const inline = await build(t, { env: { DATA_INTEGRITY_THREADS: '0' } })
  for (const app of [threaded, inline]) {
    const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
    await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  }
  t.ok(threaded.app.dataIntegrity.threads >= 1, 'the app that asked for threads signs on them')
  t.equal(inline.app.dataIntegrity.threads, 0, 'the app built second with 0 threads signs inline: the first app\'s settings do not win')
  t.not(threaded.app.dataIntegrity, inline.app.dataIntegrity)
  await threaded.app.close()
  t.equal(threaded.app.dataIntegrity.threads, 0, 'closing the app ended its threads')
})
