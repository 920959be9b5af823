import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { loggerOptions } from '../src/infrastructure/logging.js'
import { build, createAchievement } from './helpers/build-app.js'

/**
 * Closing the app (SIGTERM in server.ts) while a client that has hung up still
 * has a batch running: Fastify's close waits for connections, and that one is
 * gone, so the app must itself wait for the handler before it closes the
 * Data Integrity threads the batch signs on (src/infrastructure/http/in-flight.ts).
 */
t.test('a batch whose client hung up is finished before the app closes its signing threads', { timeout: 180_000 }, async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')); done() } })
  const logger = pino({ ...(loggerOptions('warn') as object), level: 'warn' }, sink)
  // Threads of its own, which closing the app closes (as in production).
  const app = await build(t, { logger, env: { DATA_INTEGRITY_THREADS: '1' } })
  const achievement = await createAchievement(app)
  const address = await app.app.listen({ port: 0, host: '127.0.0.1' })

  const count = 150
  const items = Array.from({ length: count }, (_, i) => ({ achievementId: achievement.id, recipient: { name: `Holder ${i}`, email: `holder${i}@example.org` } }))
  const client = new AbortController()
  const answered = fetch(`${address}/api/v1/credentials/batch`, { method: 'POST', headers: { ...app.auth, 'content-type': 'application/json' }, body: JSON.stringify({ items }), signal: client.signal }).catch((error: unknown) => error)
  // Hang up once the batch is under way (its first chunk committed), then shut down.
  let stored = 0
  for (let waited = 0; stored === 0 && waited < 120_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    stored = (await app.sql<[{ n: number }]>`select count(*)::int as n from credentials`)[0].n
  }
  t.ok(stored > 0 && stored < count, `the batch was under way when the client hung up (${stored} of ${count} stored)`)
  client.abort()
  t.match(String(await answered), /abort/i, 'the client is gone')
  await app.app.close()

  const [{ n }] = await app.sql<[{ n: number }]>`select count(*)::int as n from credentials`
  t.equal(n, count, 'every item of the batch was issued before the app closed')
  const errors = lines.map((line) => JSON.parse(line) as { level: number, msg: string }).filter((entry) => entry.level >= 50)
  t.same(errors.map((e) => e.msg), [], 'nothing failed (no signing task refused by closing threads)')
})
