import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { readKeyFiles } from '../src/capabilities/keys/key-files.js'
import { connect } from '../src/infrastructure/db/connect.js'
import { MIGRATIONS_DIR } from '../src/infrastructure/db/migrate.js'
import { productionBuild, run } from './helpers/production-build.js'

/**
 * The operator commands as the production image runs them (`docker build`
 * is not available here): compiled into dist/cli, run with plain node (no
 * tsx) beside only the production dependencies, with NODE_ENV=production,
 * against a new, empty database.
 */

const ADMIN_KEY = 'compiled-commands-test-admin-key-0123456789'

t.test('the compiled migrate, keys and admin commands run as the image runs them', { timeout: 600_000 }, async (t) => {
  const serverUrl = process.env.TESSERA_TEST_SERVER_URL
  if (serverUrl === undefined) throw new Error('Run tests with `npm test` (it prepares the test database server).')
  // An empty database (not the migrated template): migrating it is the point.
  const name = `tessera_image_${randomBytes(6).toString('hex')}`
  const server = connect(serverUrl, { max: 1 })
  await server.unsafe(`create database ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const sql = connect(url.href, { max: 2 })
  t.teardown(async () => {
    await sql.end({ timeout: 5 })
    await server.unsafe(`drop database if exists ${name} with (force)`)
    await server.end()
  })

  const { image, work } = await productionBuild(t)
  const keysDir = path.join(work, 'keys')
  const node = async (command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> =>
    await run(process.execPath, [path.join(image, 'dist/cli', command), ...args], { cwd: work, env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', ...env } })
  // What a production instance (and so the admin CLI) needs; the migrate command needs only DATABASE_URL.
  const service = { ISSUER_NAME: 'Example Certifying Body', DATABASE_URL: url.href, KEYS_DIR: keysDir, ADMIN_API_KEY: ADMIN_KEY, METRICS_TOKEN: 'a-production-metrics-token-0123456789abcdef', PUBLIC_BASE_URL: 'https://badges.example.org', DATA_DIR: path.join(work, 'data'), LOG_LEVEL: 'warn' }

  const keys = await node('generate-keys.js', ['--issuer', 'main'], { KEYS_DIR: keysDir })
  t.equal(keys.code, 0, keys.stderr)
  t.match(keys.stdout, /New key set for issuer "main"/)
  const files = await readKeyFiles(keysDir)
  t.same(files.map((f) => [f.issuer, f.algorithm, f.status]).sort(), [['main', 'Ed25519', 'active'], ['main', 'RS256', 'active']], 'keys generate: a loadable Ed25519 and RS256 key set')

  const early = await node('admin.js', ['api-keys', 'list'], service)
  t.equal(early.code, 1, 'admin on a database that is behind refuses to run')
  t.match(early.stderr, /The database is behind this version: \d+ migration\(s\) not applied \(0001_initial\.sql.*Run `npm run db:migrate` \(in the image: `node dist\/cli\/migrate\.js`\)/)

  const migrations = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort()
  const migrated = await node('migrate.js', [], { DATABASE_URL: url.href })
  t.equal(migrated.code, 0, migrated.stderr)
  t.equal(migrated.stdout.trim(), `Applied: ${migrations.join(', ')}`, 'migrate: with only DATABASE_URL, in production')
  t.same((await sql<Array<{ name: string }>>`select name from schema_migrations order by name`).map((r) => r.name), migrations)
  const again = await node('migrate.js', [], { DATABASE_URL: url.href })
  t.equal(again.code, 0, again.stderr)
  t.equal(again.stdout.trim(), `Up to date (${migrations.length} migrations applied before).`, 'a second run applies nothing')

  const created = await node('admin.js', ['api-keys', 'create', '--name', 'Exam office', '--scopes', 'credentials:read'], service)
  t.equal(created.code, 0, created.stderr)
  const id = /"id": "([A-Za-z0-9]+)"/.exec(created.stdout)?.[1] ?? ''
  t.match(created.stdout, /^tsk_\S+$/m, 'admin: the new staff key, printed once')
  const [row] = await sql`select name, scopes from api_keys where id = ${id}`
  t.same(row, { name: 'Exam office', scopes: ['credentials:read'] }, 'and stored')
  const listed = await node('admin.js', ['api-keys', 'list'], service)
  t.equal(listed.code, 0, listed.stderr)
  t.match(listed.stdout, new RegExp(`^${id}\\tExam office\\tcredentials:read\\tactive`, 'm'), 'admin lists it')
})
