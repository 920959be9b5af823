import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { prepareService } from '../src/boot.js'
import { generateKeySet, KeyFileError, readKeyFiles, writeKeyFiles } from '../src/capabilities/keys/key-files.js'
import { build, createAchievement, issue } from './helpers/build-app.js'

const quiet = { info: () => {}, warn: () => {} }

t.test('after a new key set is generated, new credentials use it and old keys stay published', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const before = await issue(app, { achievementId: achievement.id, recipient: { name: 'A', email: 'a@example.com' } })

  await writeKeyFiles(app.config.keysDir, await generateKeySet('main', new Date(Date.now() + 60_000)))
  const rotatedRing = await prepareService(app.config, app.sql, quiet)
  const rotated = await buildApp({ config: app.config, sql: app.sql, keyRing: rotatedRing, logger: false })
  t.teardown(async () => { await rotated.close() })

  const response = await rotated.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: { name: 'B', email: 'b@example.com' } } })
  const after = response.json()
  t.not(after.credential.proof[0].verificationMethod, before.credential.proof[0].verificationMethod, 'the newest key signs')

  const profile = (await rotated.inject({ method: 'GET', url: '/issuers/main' })).json()
  const methods = profile.assertionMethod.map((m: { id: string }) => m.id)
  t.ok(methods.includes(before.credential.proof[0].verificationMethod), 'the old Data Integrity key is still published')
  t.ok(methods.includes(after.credential.proof[0].verificationMethod), 'the new one too')
  const jwks = (await rotated.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
  t.equal(jwks.keys.length, 2, 'both JWT keys are in the JWKS')
})

t.test('key files: example keys are refused, a tampered file is refused, private keys never reach a response', async (t) => {
  const app = await build(t)
  const example = path.join(app.dataDir, 'example-keys')
  const [ed] = await generateKeySet('main')
  await writeKeyFiles(example, [ed])
  await writeFile(path.join(example, `${ed.id}.json`), JSON.stringify({ ...ed, example: true }))
  await t.rejects(readKeyFiles(example), KeyFileError, 'an example key file stops the boot')

  const files = await readKeyFiles(app.config.keysDir)
  const published = files.find((f) => f.algorithm === 'Ed25519')!
  const other = await generateKeySet('main')
  const forged = path.join(app.dataDir, 'forged')
  await writeKeyFiles(forged, [{ ...other[0], id: published.id }])
  await t.rejects(prepareService({ ...app.config, keysDir: forged, keysDirConfigured: true }, app.sql, quiet), /does not match the key already published/)

  const secrets = files.flatMap((f) => f.algorithm === 'Ed25519' ? [f.secretKeyMultibase] : [f.privateJwk.d!, f.privateJwk.p!])
  for (const url of ['/.well-known/jwks.json', '/issuers/main', ...files.map((f) => `/keys/${f.id}`)]) {
    const body = (await app.app.inject({ method: 'GET', url })).body
    for (const secret of secrets) t.notOk(body.includes(secret), `${url} holds no private key material`)
  }
})

t.test('a configured KEYS_DIR without keys stops the boot with a clear message', async (t) => {
  const app = await build(t)
  const empty = path.join(app.dataDir, 'empty-keys')
  await t.rejects(prepareService({ ...app.config, keysDir: empty, keysDirConfigured: true }, app.sql, quiet), /holds no active keys for issuer "main"/)
})

t.test('on a new machine (no KEYS_DIR, no keys) the boot generates development keys under DATA_DIR and says so loudly', async (t) => {
  const warnings: string[] = []
  const app = await build(t, { freshKeys: true, bootLog: { info: () => {}, warn: (message) => { warnings.push(message) } } })
  const files = await readKeyFiles(app.config.keysDir)
  t.same(files.map((f) => `${f.issuer} ${f.algorithm} ${f.status}`).sort(), ['main Ed25519 active', 'main RS256 active'], 'one Ed25519 and one RS256 key, active')
  t.match(warnings.join('\n'), /DEVELOPMENT KEYS generated for issuer "main"/)
  const issued = await issue(app, { achievementId: (await createAchievement(app)).id, recipient: { name: 'A', email: 'a@example.com' } })
  const ed = files.find((f) => f.algorithm === 'Ed25519')
  t.equal(issued.credential.proof[0].verificationMethod, `${app.config.publicBaseUrl}/issuers/main#${ed?.algorithm === 'Ed25519' ? ed.publicKeyMultibase : ''}`, 'the generated key signs')
})
