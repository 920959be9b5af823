import { readFileSync } from 'node:fs'
import t from 'tap'

/**
 * `.env.example` documents every setting: each environment variable that
 * src/kernel/config.ts reads (found in its source, as the first argument of
 * its readers: get('X'), wholeNumber('X', ...), ...) has a `X=` line there,
 * set or commented out, and it lists none that the configuration ignores.
 */

const configSource = readFileSync(new URL('../src/kernel/config.ts', import.meta.url), 'utf8')
const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8')

const read = new Set([...configSource.matchAll(/\b[a-zA-Z]+\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!))
const documented = new Set([...example.matchAll(/^(?:# ?)?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!))

t.test('every setting the configuration reads is in .env.example', async (t) => {
  t.ok(read.size >= 40, `the reader found the settings (${read.size})`)
  for (const name of ['DATABASE_URL', 'NODE_ENV', 'MIGRATE_ON_BOOT', 'RATE_LIMIT_VERIFY_PER_MINUTE', 'JOB_POLL_SECONDS']) t.ok(read.has(name), `found ${name}`)
  t.same([...read].filter((name) => !documented.has(name)).sort(), [], 'missing from .env.example')
})

t.test('.env.example lists no setting the configuration ignores', async (t) => {
  t.same([...documented].filter((name) => !read.has(name)).sort(), [])
})
