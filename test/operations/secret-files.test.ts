import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/kernel/config.js'

/**
 * Secrets mounted as files (compose `secrets:`, Kubernetes secret volumes):
 * DATABASE_URL_FILE, ADMIN_API_KEY_FILE and SMTP_URL_FILE stand for the
 * variables they name, with the file's content trimmed of its final newline.
 */

const production = {
  NODE_ENV: 'production',
  KEYS_DIR: '/keys',
  PUBLIC_BASE_URL: 'https://badges.example.org',
  ISSUER_NAME: 'Example Certifying Body',
  METRICS_TOKEN: 'a-production-metrics-token-0123456789abcdef',
  MAIL_FROM: 'Badges <badges@example.org>'
}

t.test('a production configuration can take its database URL, staff key and SMTP URL from files', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-secrets-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(path.join(dir, 'database_url'), 'postgres://tessera:s3cret@db:5432/tessera\n')
  await writeFile(path.join(dir, 'admin_api_key'), 'a-production-staff-key-from-a-file-0123456789\n')
  await writeFile(path.join(dir, 'smtp_url'), 'smtp://user:pass@mail:1025\n')
  const config = loadConfig({
    ...production,
    DATABASE_URL_FILE: path.join(dir, 'database_url'),
    ADMIN_API_KEY_FILE: path.join(dir, 'admin_api_key'),
    SMTP_URL_FILE: path.join(dir, 'smtp_url')
  })
  t.equal(config.databaseUrl, 'postgres://tessera:s3cret@db:5432/tessera')
  t.equal(config.adminApiKey, 'a-production-staff-key-from-a-file-0123456789')
  t.equal(config.notifications.smtpUrl, 'smtp://user:pass@mail:1025')
})

t.test('a file that is missing or empty, or a variable set both ways, is a configuration problem naming it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-secrets-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(path.join(dir, 'empty'), '\n')
  await writeFile(path.join(dir, 'smtp_url'), 'smtp://mail:1025')
  const error = t.throws(() => loadConfig({
    ...production,
    DATABASE_URL_FILE: path.join(dir, 'absent'),
    ADMIN_API_KEY_FILE: path.join(dir, 'empty'),
    SMTP_URL_FILE: path.join(dir, 'smtp_url'),
    SMTP_URL: 'smtp://other:1025'
  })) as ConfigError
  t.ok(error instanceof ConfigError)
  t.ok(error.problems.some((p) => p.startsWith('"DATABASE_URL_FILE" names a file that cannot be read') && p.includes('ENOENT')), 'the missing file')
  t.ok(error.problems.includes(`"ADMIN_API_KEY_FILE" names an empty file (${path.join(dir, 'empty')}).`), 'the empty file')
  t.ok(error.problems.includes('"SMTP_URL" and "SMTP_URL_FILE" are both set: set one of them.'), 'both set')
  // Production still insists on the settings the files were meant to give.
  t.ok(error.problems.some((p) => p.startsWith('"DATABASE_URL" must be set in production')))
  t.ok(error.problems.some((p) => p.startsWith('"ADMIN_API_KEY" must be set in production')))
})

t.test('a secret read from a file is validated like the variable', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-secrets-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(path.join(dir, 'admin_api_key'), 'too-short\n')
  const error = t.throws(() => loadConfig({ ADMIN_API_KEY_FILE: path.join(dir, 'admin_api_key') })) as ConfigError
  t.match(error.problems, ['"ADMIN_API_KEY" must be at least 32 characters long (generate one with `openssl rand -base64 32`).'])
})
