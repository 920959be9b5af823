import t from 'tap'
import { dataIntegrityThreads, runDataIntegrity } from '../src/infrastructure/signing/pool.js'
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
  t.ok(dataIntegrityThreads() >= 1, `${dataIntegrityThreads()} thread(s) running after issuing`)

  const keys = app.keyRing.signingKeys('main')
  if (keys === undefined) throw new Error('no keys')
  const exported = await keys.dataIntegrity.keyPair.export({ publicKey: true, secretKey: true, includeContext: false }) as { publicKeyMultibase: string, secretKeyMultibase: string }
  const key = { id: keys.dataIntegrity.verificationMethod, controller: String(keys.dataIntegrity.keyPair.controller), ...exported }
  const { proof: _proof, ...unsigned } = issued.credential
  const task = { kind: 'sign' as const, credential: unsigned, key, created: '2026-11-25T12:00:00Z' }
  const threaded = await runDataIntegrity<Record<string, any>>(task)
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
    const onThread = await runDataIntegrity<VerifyResult>(input)
    const onLoop = await runTask(structuredClone(input)) as VerifyResult
    t.same(onThread, onLoop, `${label}: the same result`)
  }
  t.equal((await runDataIntegrity<VerifyResult>(verify(good))).results[0]?.verified, true)
  t.equal((await runDataIntegrity<VerifyResult>(verify(tampered))).results[0]?.verified, false)
  t.match((await runDataIntegrity<VerifyResult>(verify(good, {}))), { results: [{ verified: false, error: { missingUrl: key.id } }] })
})
