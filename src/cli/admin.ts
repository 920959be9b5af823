/**
 * Administration from the shell, for whoever runs the service:
 *   npm run admin -- api-keys create --name "Exam office" --scopes credentials:issue,credentials:read [--expires 2027-06-30T00:00:00Z]
 *   npm run admin -- api-keys list
 *   npm run admin -- api-keys revoke <id>
 *   npm run admin -- signing-keys rotate
 *   npm run admin -- signing-keys compromised <key id> --since 2026-11-20T00:00:00Z
 *   npm run admin -- signing-keys reload
 *   npm run admin -- credentials re-sign --key <key id>
 *   npm run admin -- staff create --email ops@aama.example --name "Olive Ops" --role admin
 *   npm run admin -- staff enrolment-link <staff user id>
 *   npm run admin -- staff list
 * Each change is audited with the actor "cli". Compiled: `node dist/cli/admin.js …` (the image).
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../kernel/config.js'
import { ensureSchema } from '../boot.js'
import { apiKeyResource, createApiKey, listApiKeys, revokeStaffKey } from '../capabilities/staff-access/api-keys.js'
import { SCOPES, type Scope } from '../capabilities/staff-access/bearer-auth.js'
import { cliDatabase, NoDatabaseError } from './database.js'
import { createEnrolmentLink, createStaffUser, ENROLMENT_HOURS, staffUserResource } from '../capabilities/staff-accounts/accounts.js'
import { isRole, ROLES } from '../capabilities/staff-accounts/roles.js'
import { listStaffUsers } from '../capabilities/staff-accounts/store.js'
import { resignAll } from '../capabilities/credentials/recertify/resign-all.js'
import { loadKeyRing } from '../capabilities/keys/key-ring.js'
import { compromiseSigningKey, rotateSigningKeys } from '../capabilities/keys/lifecycle.js'
import { announceSigningKeysChanged } from '../capabilities/keys/key-ring-refresh.js'
import { openJobQueue } from '../infrastructure/jobs/job-queue.js'
import { databaseOutbox } from '../infrastructure/jobs/outbox.js'
import { publicUrls } from '../kernel/public-urls.js'
import { statusListPolicy } from '../capabilities/status-lists/policy.js'

const USAGE = `usage: npm run admin -- <command>
  api-keys create --name <name> --scopes <scope,scope,...> [--expires <RFC 3339 time>]
  api-keys list
  api-keys revoke <id>
  signing-keys rotate
  signing-keys compromised <key id> --since <RFC 3339 time>
  signing-keys reload            (every running instance re-reads KEYS_DIR and the keys' states)
  credentials re-sign --key <key id>
  staff create --email <email> --name <name> --role <${ROLES.join('|')}>   (prints the link that registers their passkey)
  staff enrolment-link <staff user id>                   (another passkey: a new device, a lost one)
  staff list
scopes: ${SCOPES.join(', ')}`

class UsageError extends Error {}

async function main (argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { name: { type: 'string' }, scopes: { type: 'string' }, expires: { type: 'string' }, since: { type: 'string' }, key: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } } })
  const [group, command, ...rest] = positionals
  if (!['api-keys', 'signing-keys', 'credentials', 'staff'].includes(group ?? '') || command === undefined) throw new UsageError(USAGE)
  const config = loadConfig(process.env)
  const db = await cliDatabase(config)
  try {
    // As the service: migrations only where MIGRATE_ON_BOOT says so; otherwise the schema must be current.
    await ensureSchema(config, db.url, db.sql, { info: () => {}, warn: (m) => { console.error(m) } })
    const deps = { sql: db.sql, actor: 'cli', now: new Date() }
    if (group === 'signing-keys' && command === 'rotate') {
      const { newKeys, retired } = await rotateSigningKeys({ ...deps, keysDir: config.keysDir }, config.issuer.id)
      console.log(`new signing keys: ${newKeys.join(', ')}; retired (still verifying): ${retired.join(', ') || 'none'}. Running instances switch as it commits.`)
    } else if (group === 'signing-keys' && command === 'reload') {
      // By hand, e.g. after key files were copied into KEYS_DIR: the same announcement a rotation makes.
      await db.sql.begin(async (tx) => { await announceSigningKeysChanged(tx) })
      console.log('every running instance is reloading its signing keys.')
    } else if (group === 'signing-keys' && command === 'compromised' && rest[0] !== undefined) {
      const since = new Date(values.since ?? '')
      if (Number.isNaN(since.getTime())) throw new UsageError(`--since must be an RFC 3339 time\n${USAGE}`)
      await compromiseSigningKey({ ...deps, keysDir: config.keysDir }, rest[0], since)
      console.log(`key ${rest[0]} withdrawn: what it signed from ${since.toISOString()} on no longer verifies. If it was the signer, run "signing-keys rotate", then "credentials re-sign --key ${rest[0]}".`)
    } else if (group === 'credentials' && command === 're-sign' && values.key !== undefined) {
      const keyRing = await loadKeyRing(db.sql, publicUrls(config.publicBaseUrl), config.keysDir)
      // Each new version's event goes to the outbox; the service's workers deliver it.
      const jobs = await openJobQueue(db.sql, { run: false })
      const total = await resignAll({ sql: deps.sql, actor: deps.actor, clock: () => new Date(), keyRing, urls: publicUrls(config.publicBaseUrl), statusLists: statusListPolicy(), outbox: databaseOutbox(jobs) }, values.key, (done) => { console.log(`re-signed ${done}`) })
      await jobs.stop()
      console.log(`done: ${total} credential(s) re-signed; none current is signed by ${values.key} any more. Running it again resumes where it stopped.`)
    } else if (group === 'staff' && command === 'create') {
      // The first administrator comes from here; later staff users can be made in the console too.
      if (values.email === undefined || values.name === undefined || values.role === undefined || !isRole(values.role)) throw new UsageError(USAGE)
      const { user, enrolmentUrl } = await createStaffUser({ ...deps, baseUrl: config.publicBaseUrl }, { email: values.email, name: values.name, role: values.role })
      console.log(JSON.stringify(staffUserResource(user), null, 2))
      console.log(`\nThe link that registers their passkey (works once, for ${ENROLMENT_HOURS} hours):\n${enrolmentUrl}`)
    } else if (group === 'staff' && command === 'enrolment-link' && rest[0] !== undefined) {
      console.log(await createEnrolmentLink({ ...deps, baseUrl: config.publicBaseUrl }, rest[0]))
    } else if (group === 'staff' && command === 'list') {
      for (const user of await listStaffUsers(db.sql)) console.log([user.id, user.email, user.name, user.role, user.disabledAt === null ? 'active' : `disabled ${user.disabledAt.toISOString()}`].join('\t'))
    } else if (group !== 'api-keys') {
      throw new UsageError(USAGE)
    } else if (command === 'create') {
      const scopes = (values.scopes ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
      const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s))
      if (values.name === undefined || scopes.length === 0 || unknown.length > 0) throw new UsageError(unknown.length > 0 ? `unknown scopes: ${unknown.join(', ')}\n${USAGE}` : USAGE)
      const expiresAt = values.expires === undefined ? undefined : new Date(values.expires)
      if (expiresAt !== undefined && Number.isNaN(expiresAt.getTime())) throw new UsageError(`--expires must be an RFC 3339 time\n${USAGE}`)
      const { key, row } = await createApiKey(deps, { name: values.name, scopes: scopes as Scope[], ...(expiresAt !== undefined ? { expiresAt } : {}) })
      console.log(JSON.stringify(apiKeyResource(row), null, 2))
      console.log(`\nThe key (shown this once; only its hash is kept):\n${key}`)
    } else if (command === 'list') {
      for (const row of await listApiKeys(db.sql)) {
        const r = apiKeyResource(row)
        console.log([r.id, r.name, (r.scopes as string[]).join(','), r.revokedAt !== null ? `revoked ${String(r.revokedAt)}` : r.expiresAt !== null ? `expires ${String(r.expiresAt)}` : 'active', `last used ${String(r.lastUsedAt ?? 'never')}`].join('\t'))
      }
    } else if (command === 'revoke' && rest[0] !== undefined) {
      console.log(JSON.stringify(apiKeyResource(await revokeStaffKey(deps, rest[0])), null, 2))
    } else {
      throw new UsageError(USAGE)
    }
    return 0
  } finally {
    await db.close()
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (error: unknown) => {
  console.error(error instanceof UsageError || error instanceof NoDatabaseError ? error.message : `admin: ${(error as Error).message}`)
  process.exitCode = error instanceof UsageError ? 64 : error instanceof NoDatabaseError ? 2 : 1
})
