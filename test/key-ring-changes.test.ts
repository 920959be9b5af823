import { spawn } from 'node:child_process'
import t from 'tap'
import { generateKeySet, writeKeyFiles } from '../src/capabilities/keys/key-files.js'
import { build, createAchievement, type TestApp } from './helpers/build-app.js'
import { waitFor } from './helpers/notifications.js'

/**
 * The running service's key ring follows the change feed: the admin CLI, a
 * process of its own, changes the keys and announces it in the same
 * transaction (NOTIFY); the service reloads when that commits. Nothing polls
 * the key files, so each step is waited for with a bound, never slept for.
 */

async function admin (app: TestApp, ...args: string[]): Promise<{ status: number | null, stdout: string, stderr: string }> {
  const env = { ...process.env, DATABASE_URL: app.config.databaseUrl ?? '', DATA_DIR: app.dataDir, KEYS_DIR: app.config.keysDir, LOG_LEVEL: 'silent' }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], { env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const status = await new Promise<number | null>((resolve) => { child.once('exit', resolve) })
  return { status, stdout, stderr }
}

/** Issues one credential: the id of the RS256 key that signed its VC-JWT, or the HTTP status when it was refused. */
async function signerOf (app: TestApp, achievementId: string, n: number): Promise<string | number> {
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId, recipient: { name: `Holder ${n}`, email: `holder${n}@example.com` } } })
  if (response.statusCode !== 201) return response.statusCode
  const { kid } = JSON.parse(Buffer.from((response.json().jwt as string).split('.')[0]!, 'base64url').toString()) as { kid: string }
  return kid.slice(kid.lastIndexOf('/') + 1)
}

async function activeRs256 (app: TestApp): Promise<string[]> {
  return (await app.sql<Array<{ id: string }>>`select id from signing_keys where status = 'active' and algorithm = 'RS256' order by created_at`).map((r) => r.id)
}

t.test('a rotation, then a compromise, made by the admin CLI reach the running service when they commit', async (t) => {
  const app = await build(t)
  const { id: achievementId } = await createAchievement(app)
  const [first] = await activeRs256(app)
  t.equal(await signerOf(app, achievementId, 0), first, 'signed with the first key')

  const rotated = await admin(app, 'signing-keys', 'rotate')
  t.equal(rotated.status, 0, rotated.stderr)
  const [second] = await activeRs256(app)
  t.not(second, first)
  let n = 1
  t.equal(await waitFor('the new signer', async () => { const s = await signerOf(app, achievementId, n++); return s === second ? s : undefined }, 10_000), second, 'new credentials are signed with the rotated key, without a restart')

  const withdrawn = await admin(app, 'signing-keys', 'compromised', second ?? '', '--since', new Date(Date.now() - 3600_000).toISOString())
  t.equal(withdrawn.status, 0, withdrawn.stderr)
  t.equal(await waitFor('the withdrawal', async () => { const s = await signerOf(app, achievementId, n++); return s === 503 ? s : undefined }, 10_000), 503, 'a compromised signer stops signing: no signer until the next rotation')
})

t.test('signing-keys reload: key files copied into KEYS_DIR by hand are taken up by the running service', async (t) => {
  const app = await build(t)
  const { id: achievementId } = await createAchievement(app)
  const [first] = await activeRs256(app)
  const copied = await generateKeySet(app.config.issuer.id, new Date(Date.now() + 60_000))
  await writeKeyFiles(app.config.keysDir, copied)
  t.equal(await signerOf(app, achievementId, 0), first, 'a file alone changes nothing: nothing polls the folder')

  const reloaded = await admin(app, 'signing-keys', 'reload')
  t.equal(reloaded.status, 0, reloaded.stderr)
  const newest = copied.find((k) => k.algorithm === 'RS256')?.id
  let n = 1
  t.equal(await waitFor('the copied signer', async () => { const s = await signerOf(app, achievementId, n++); return s === newest ? s : undefined }, 10_000), newest, 'the newest active key signs')
})
