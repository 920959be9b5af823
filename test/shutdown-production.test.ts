import t from 'tap'
import { hangUpDuringBatch } from './helpers/hung-up-batch.js'
import { productionImage, productionStartArgs } from './helpers/production-build.js'
import { startServiceProcess } from './helpers/service-process.js'

/**
 * A deployment stopped (SIGTERM) while a client that has hung up still has a
 * batch running, on the production build as `npm run start:prod` runs it (two
 * HTTP processes): the batch is finished, nothing fails, the service exits 0.
 * test/shutdown-in-flight.test.ts pins the mechanism (closing waits for the
 * running handlers, src/infrastructure/http/in-flight.ts) where the timing is
 * under the test's control; here the signals take their own time.
 */
const ADMIN_KEY = 'shutdown-test-admin-key-0123456789abcdef'

t.test('SIGTERM while a batch whose client hung up is running: the batch is finished, nothing fails, the service exits 0', { skip: process.platform === 'linux' ? false : 'signals and process trees as on Linux', timeout: 300_000 }, async (t) => {
  // start:prod's own command and flags, so that this is what production runs.
  const service = await startServiceProcess(t, {
    nodeArgs: productionStartArgs(await productionImage()),
    adminKey: ADMIN_KEY,
    env: { ISSUER_NAME: 'Shutdown Test Board', LOG_LEVEL: 'warn', WORKER: 'off', WEB_CONCURRENCY: '2', MAX_EVENT_LOOP_DELAY_MS: '0' }
  })
  const countCredentials = async (): Promise<number> => (await service.db.sql<[{ n: number }]>`select count(*)::int as n from credentials`)[0].n

  const staff = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
  const achievement = await fetch(`${service.base}/api/v1/achievements`, { method: 'POST', headers: staff, body: JSON.stringify({ name: 'CMA (AAMA)', description: 'Certified Medical Assistant.', criteria: { narrative: 'Passed the exam.' }, achievementType: 'Certification', validityMonths: 60 }) })
  t.equal(achievement.status, 201)
  const { id: achievementId } = await achievement.json() as { id: string }

  const count = 150
  const { stored, clientGot } = await hangUpDuringBatch({ url: `${service.base}/api/v1/credentials/batch`, headers: staff, achievementId, count, countStored: countCredentials })
  t.ok(stored > 0 && stored < count, `the batch was under way when the client hung up (${stored} of ${count} stored)`)
  t.match(String(clientGot), /abort/i, 'the client is gone')
  service.child.kill('SIGTERM')
  t.equal((await service.closed).code, 0, 'the service exits 0')

  t.equal(await countCredentials(), count, 'every item of the batch was issued before the service stopped')
  const errors = service.log().split('\n').filter((line) => /"level":(50|60)/.test(line))
  t.same(errors, [], 'nothing failed (no signing task refused by closing threads)')
})
