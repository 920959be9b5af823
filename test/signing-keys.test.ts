import { spawnSync } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import t from 'tap'
import { resignAll } from '../src/capabilities/credentials/recertify/resign-all.js'
import { signDataIntegrity, signJwt } from '../src/infrastructure/signing/sign.js'
import { readKeyFiles } from '../src/capabilities/keys/key-files.js'
import { compromiseSigningKey, rotateSigningKeys } from '../src/capabilities/keys/lifecycle.js'
import { build, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { waitFor } from './helpers/notifications.js'

const verify = async (app: TestApp, credential: unknown) => (await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })).json()
const keyBinding = (result: { checks: Array<{ id: string, result: string, message: string }> }) => result.checks.find((c) => c.id === 'key_binding')!

async function activeKeys (app: TestApp): Promise<{ ed: string, rs: string }> {
  const rows = await app.sql<Array<{ id: string, algorithm: string }>>`select id, algorithm from signing_keys where status = 'active'`
  return { ed: rows.find((r) => r.algorithm === 'Ed25519')!.id, rs: rows.find((r) => r.algorithm === 'RS256')!.id }
}

t.test('rotation: what the old key signed still verifies in both forms; the service switches signer without a restart', async (t) => {
  let now = new Date('2026-06-01T00:00:00Z')
  const app = await build(t, { clock: () => now })
  const achievement = await createAchievement(app)
  const before = await issue(app, { achievementId: achievement.id, recipient: { name: 'Before', email: 'before@example.com' } })
  const old = await activeKeys(app)
  now = new Date('2026-06-02T00:00:00Z')
  const { newKeys, retired } = await rotateSigningKeys({ sql: app.sql, keysDir: app.config.keysDir, actor: 'test', now }, 'main')
  t.same(retired.sort(), [old.ed, old.rs].sort(), 'the old keys are retired')
  // The running app hears of it through the change feed (the rotation's NOTIFY): no restart, no call into it.
  let after: Awaited<ReturnType<typeof issue>> | undefined
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const candidate = await issue(app, { achievementId: achievement.id, recipient: { name: `After ${i}`, email: `after${i}@example.com` } })
    if (candidate.jwt !== undefined && JSON.parse(Buffer.from(candidate.jwt.split('.')[0]!, 'base64url').toString()).kid.endsWith(newKeys.find((k) => k.startsWith('rs256'))!)) {
      after = candidate
      break
    }
  }
  t.ok(after, 'new credentials are signed with the new keys')
  t.not(after?.credential.proof[0].verificationMethod, before.credential.proof[0].verificationMethod)
  for (const form of [before.credential, before.jwt, after?.credential, after?.jwt]) t.equal((await verify(app, form)).status, 'valid')
  const jwks = (await app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
  t.equal(jwks.keys.length, 2, 'both JWT keys are published')
  const events = await app.sql`select action from audit_events where action = 'signing_key.rotated'`
  t.equal(events.length, 1)
})

t.test('compromise: later signatures are refused, earlier ones on record stand with a warning, forgeries are caught; re-signing moves every credential on', async (t) => {
  let now = new Date('2026-06-01T00:00:00Z')
  const app = await build(t, { clock: () => now })
  const achievement = await createAchievement(app)
  const genuine = await issue(app, { achievementId: achievement.id, recipient: { name: 'Genuine', email: 'g@example.com' } })
  const stolen = await activeKeys(app)
  const files = await readKeyFiles(app.config.keysDir)
  const edFile = files.find((f) => f.id === stolen.ed)
  const rsFile = files.find((f) => f.id === stolen.rs)
  if (edFile?.algorithm !== 'Ed25519' || rsFile?.algorithm !== 'RS256') throw new Error('key files not found')

  now = new Date('2026-06-10T00:00:00Z')
  for (const id of [stolen.ed, stolen.rs]) await compromiseSigningKey({ sql: app.sql, keysDir: app.config.keysDir, actor: 'test', now }, id, new Date('2026-06-05T00:00:00Z'))

  const stillGood = await verify(app, genuine.credential)
  t.equal(stillGood.status, 'valid', 'signed on 1 June, before the compromise on 5 June, and on record')
  t.ok(stillGood.warnings.some((w: string) => /withdrawn as compromised on 2026-06-05/.test(w)), 'with a warning')
  t.equal((await verify(app, genuine.jwt)).status, 'valid', 'the JWT form too')

  // The thief signs new credentials with the stolen keys.
  const verificationMethod = genuine.credential.proof[0].verificationMethod as string
  const keyPair = await Ed25519Multikey.from({ id: verificationMethod, controller: genuine.credential.issuer.id, publicKeyMultibase: edFile.publicKeyMultibase, secretKeyMultibase: edFile.secretKeyMultibase })
  const { proof: _proof, ...unsigned } = genuine.credential
  const forged = { ...structuredClone(unsigned), credentialSubject: { ...unsigned.credentialSubject, name: 'Mallory' } } as unknown as Parameters<typeof signDataIntegrity>[0]
  const later = await signDataIntegrity(forged, { keyId: stolen.ed, verificationMethod, keyPair }, new Date('2026-06-11T00:00:00Z'))
  const laterResult = await verify(app, later)
  t.equal(laterResult.status, 'invalid', 'signed after the compromise: refused')
  t.match(keyBinding(laterResult).message, /withdrawn as compromised on 2026-06-05T00:00:00.000Z; this signature is dated 2026-06-11/)
  const backdated = await signDataIntegrity(forged, { keyId: stolen.ed, verificationMethod, keyPair }, new Date('2026-05-01T00:00:00Z'))
  const backdatedResult = await verify(app, backdated)
  t.equal(backdatedResult.status, 'invalid', 'backdated before the compromise: still refused')
  t.match(keyBinding(backdatedResult).message, /not one the issuer made, so it is a forgery/)
  const privateKey = createPrivateKey({ key: rsFile.privateJwk as never, format: 'jwk' })
  const forgedJwt = await signJwt(forged, { keyId: stolen.rs, kid: app.app.urls.key(stolen.rs), alg: 'RS256', privateKey }, new Date('2026-06-11T00:00:00Z'))
  t.equal((await verify(app, forgedJwt)).status, 'invalid', 'a JWT signed later with the stolen key: refused')

  const jwks = (await app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
  t.notOk(jwks.keys.some((k: { kid: string }) => k.kid.endsWith(stolen.rs)), 'the compromised key left the JWKS')
  const profile = (await app.app.inject({ method: 'GET', url: '/issuers/main', headers: { accept: 'application/ld+json' } })).json()
  t.notOk(JSON.stringify(profile.assertionMethod ?? []).includes(edFile.publicKeyMultibase), 'and the issuer Profile')

  // The service hears of the withdrawal through the change feed, as it commits.
  let attempt = 0
  // Until the change feed arrives (milliseconds) an issue may still be signed by the withdrawn key; those are re-signed below too.
  let signedMeanwhile = 0
  const refused = await waitFor('the withdrawal', async () => {
    const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: { name: 'N', email: `n${attempt++}@example.com` } } })
    if (response.statusCode === 201) signedMeanwhile++
    return response.statusCode === 503 ? response.statusCode : undefined
  }, 10_000)
  t.equal(refused, 503, 'no signer until a rotation')
  await rotateSigningKeys({ sql: app.sql, keysDir: app.config.keysDir, actor: 'test', now }, 'main')
  // A reload by hand: the ring is current now, whether or not the change feed came first.
  await app.keyRing.refresh?.()

  const progress: number[] = []
  const resigned = await resignAll({ sql: app.sql, keyRing: app.keyRing, urls: app.app.urls, clock: () => now, actor: 'test', statusLists: app.app.statusListPolicy, outbox: app.app.outbox }, stolen.ed, (n) => progress.push(n))
  t.equal(resigned, 1 + signedMeanwhile, 'the genuine credential, and any issued before the withdrawal reached this instance')
  t.same(progress, [1 + signedMeanwhile])
  const current = (await app.app.inject({ method: 'GET', url: new URL(genuine.url).pathname })).json()
  t.not(current.proof[0].verificationMethod, verificationMethod, 'the current version is signed by the new key')
  const currentResult = await verify(app, current)
  t.equal(currentResult.status, 'valid', JSON.stringify(currentResult.checks))
  const oldResult = await verify(app, genuine.credential)
  t.equal(oldResult.status, 'superseded', JSON.stringify(oldResult.checks))
  t.equal(await resignAll({ sql: app.sql, keyRing: app.keyRing, urls: app.app.urls, clock: () => now, actor: 'test', statusLists: app.app.statusListPolicy, outbox: app.app.outbox }, stolen.ed, () => {}), 0, 'a second run finds nothing left: resumable')
})

t.test('the admin CLI rotates and withdraws keys', async (t) => {
  const app = await build(t)
  const env = { ...process.env, DATABASE_URL: app.config.databaseUrl ?? '', KEYS_DIR: app.config.keysDir, LOG_LEVEL: 'silent' }
  const admin = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], { env, encoding: 'utf8' })
  const old = await activeKeys(app)
  const rotated = admin('signing-keys', 'rotate')
  t.equal(rotated.status, 0, rotated.stderr)
  t.match(rotated.stdout, /retired \(still verifying\)/)
  const now = await activeKeys(app)
  t.not(now.ed, old.ed)
  const withdrawn = admin('signing-keys', 'compromised', old.ed, '--since', '2026-01-01T00:00:00Z')
  t.equal(withdrawn.status, 0, withdrawn.stderr)
  const [row] = await app.sql`select status, compromised_at from signing_keys where id = ${old.ed}`
  t.equal(row!.status, 'compromised')
  t.same(row!.compromised_at, new Date('2026-01-01T00:00:00Z'))
  const resigned = admin('credentials', 're-sign', '--key', old.ed)
  t.equal(resigned.status, 0, resigned.stderr)
  t.match(resigned.stdout, /done: 0 credential\(s\) re-signed/)
  t.equal(admin('signing-keys', 'compromised', old.ed).status, 64, '--since is required')
})
