import t from 'tap'
import { runAdmin } from '../helpers/admin-cli.js'
import { build } from '../helpers/build-app.js'
import { enrol } from '../helpers/console.js'
import { SoftwareAuthenticator } from '../helpers/passkey-authenticator.js'
import { CookieJar, getPage } from '../helpers/portal.js'

const admin = runAdmin

t.test('the first administrator comes from the CLI: its link registers a passkey and opens the whole console', { timeout: 120_000 }, async (t) => {
  const app = await build(t)
  const env = { DATABASE_URL: app.config.databaseUrl ?? '', PUBLIC_BASE_URL: app.config.publicBaseUrl, NODE_ENV: 'development' }

  const refused = await admin(['staff', 'create', '--email', 'ops@aama.example', '--name', 'Olive Ops', '--role', 'owner'], env)
  t.equal(refused.code, 64, 'an unknown role is a usage error')
  t.match(refused.stderr, /--role <admin\|registrar\|viewer>/)

  const made = await admin(['staff', 'create', '--email', 'Ops@AAMA.example', '--name', 'Olive Ops', '--role', 'admin'], env)
  t.equal(made.code, 0, made.stderr)
  const link = /https?:\/\/\S+\/console\/enrol\?token=[\w-]+/.exec(made.stdout)?.[0]
  t.ok(link, 'it prints the enrolment link')
  t.match(made.stdout, /"email": "ops@aama.example"/, 'the address as stored (lower case)')

  const again = await admin(['staff', 'create', '--email', 'ops@aama.example', '--name', 'Olive Again', '--role', 'viewer'], env)
  t.equal(again.code, 1, 'one staff user per address')
  t.match(again.stderr, /already exists/)

  const jar = new CookieJar()
  const enrolled = await enrol(app, jar, new SoftwareAuthenticator(app.config.publicBaseUrl), new URL(link ?? 'http://x').searchParams.get('token') ?? '')
  t.equal(enrolled.statusCode, 200, enrolled.body)
  const dashboard = await getPage(app, jar, '/console')
  t.match(dashboard.body, /Olive Ops \(Administrator\)/)
  t.match(dashboard.body, /href="\/console\/admin"/, 'an administrator sees administration')

  const listed = await admin(['staff', 'list'], env)
  t.match(listed.stdout, /ops@aama\.example\tOlive Ops\tadmin\tactive/)
  const [audit] = await app.sql`select actor from audit_events where action = 'staff_user.created'`
  t.equal(audit?.actor, 'cli', 'the CLI is the actor of the bootstrap')
})
