import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { loggerOptions } from '../src/infrastructure/logging.js'
import { build, createAchievement } from './helpers/build-app.js'
import { hangUpDuringBatch } from './helpers/hung-up-batch.js'

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
  const countCredentials = async (): Promise<number> => (await app.sql<[{ n: number }]>`select count(*)::int as n from credentials`)[0].n
  const { stored, clientGot } = await hangUpDuringBatch({ url: `${address}/api/v1/credentials/batch`, headers: app.auth, achievementId: achievement.id, count, countStored: countCredentials })
  t.ok(stored > 0 && stored < count, `the batch was under way when the client hung up (${stored} of ${count} stored)`)
  t.match(String(clientGot), /abort/i, 'the client is gone')
  await app.app.close()

  t.equal(await countCredentials(), count, 'every item of the batch was issued before the app closed')
  const errors = lines.map((line) => JSON.parse(line) as { level: number, msg: string }).filter((entry) => entry.level >= 50)
  t.same(errors.map((e) => e.msg), [], 'nothing failed (no signing task refused by closing threads)')
})
