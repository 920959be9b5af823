import t, { type Test } from 'tap'
import { openJobQueue, QUEUES, type JobQueue } from '../../src/infrastructure/jobs/job-queue.js'
import { freshDatabase } from '../helpers/database.js'
import { waitFor } from '../helpers/notifications.js'

/**
 * Stopping the queue and then ending the pool, as an app's close and a
 * process's shutdown do. pg-boss records a job's end without awaiting it, so
 * a job still running when pg-boss's own stop gives up used to send that
 * statement into the ended pool: an unhandled rejection (CONNECTION_ENDED),
 * which fails this file under tap.
 */

const QUICK = { pollingIntervalSeconds: 0.5, retryDelaySeconds: 1, maintenanceIntervalSeconds: 1 }

function latch (): { promise: Promise<void>, release: () => void } {
  let release = (): void => {}
  const promise = new Promise<void>((resolve) => { release = resolve })
  return { promise, release }
}

/** A queue on a fresh database whose one job has started and runs until `finish` is released. */
async function queueWithRunningJob (t: Test, id: string): Promise<{ database: Awaited<ReturnType<typeof freshDatabase>>, jobs: JobQueue, finish: ReturnType<typeof latch>, id: string }> {
  const database = await freshDatabase()
  t.teardown(async () => { await database.drop() })
  const jobs = await openJobQueue(database.sql, { run: true, policy: QUICK })
  const started = latch()
  const finish = latch()
  await jobs.work(QUEUES.portalPurge, async () => { started.release(); await finish.promise })
  await jobs.add(database.sql, QUEUES.portalPurge, {}, { id })
  await started.promise
  return { database, jobs, finish, id }
}

const jobState = async (sql: Awaited<ReturnType<typeof freshDatabase>>['sql'], id: string): Promise<string | undefined> =>
  (await sql<Array<{ state: string }>>`select state from pgboss.job where id = ${id}`)[0]?.state

t.test('a job that outlives pg-boss\'s grace ends before stop returns, and the pool can end', async (t) => {
  const { database, jobs, finish, id } = await queueWithRunningJob(t, '00000000-0000-4000-8000-000000000001')

  // pg-boss gives up waiting after 1 s; the job ends half a second later.
  setTimeout(finish.release, 1500)
  const stopping = Date.now()
  await jobs.stop({ graceMs: 1000 })
  t.ok(Date.now() - stopping >= 1400, 'stop waited for the job')
  // pg-boss marked it for a retry when its grace ran out, so its completion changes nothing: it runs again (at least once).
  t.equal(await jobState(database.sql, id), 'retry')
  await database.sql.end({ timeout: 5 })
  // A turn for anything left behind to meet the ended pool (tap fails the file on an unhandled rejection).
  await new Promise((resolve) => setTimeout(resolve, 300))
})

t.test('a job still running after the whole grace is left to its expiry, and nothing reaches the ended pool', async (t) => {
  const { database, jobs, finish, id } = await queueWithRunningJob(t, '00000000-0000-4000-8000-000000000002')

  const stopping = Date.now()
  await jobs.stop({ graceMs: 1000 })
  t.ok(Date.now() - stopping < 5000, 'stop does not wait for the job forever')
  t.equal(await jobState(database.sql, id), 'retry', 'pg-boss marked it for a retry when its grace ran out')
  await database.sql.end({ timeout: 5 })
  finish.release()
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.pass('the handler ended after the pool, and its end was not sent')
})

t.test('after stop, a worker fetches nothing more', async (t) => {
  const database = await freshDatabase()
  t.teardown(async () => { await database.drop() })
  const jobs = await openJobQueue(database.sql, { run: true, policy: QUICK })
  const handled: string[] = []
  await jobs.work(QUEUES.portalPurge, async (job) => { handled.push(job.id) })
  const first = '00000000-0000-4000-8000-000000000003'
  await jobs.add(database.sql, QUEUES.portalPurge, {}, { id: first })
  await waitFor('the first job', () => handled.includes(first) ? true : undefined)
  await jobs.stop({ graceMs: 1000 })
  const second = '00000000-0000-4000-8000-000000000004'
  await jobs.add(database.sql, QUEUES.portalPurge, {}, { id: second })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.same(handled, [first], 'the job added after stop waits for another process')
  t.equal(await jobState(database.sql, second), 'created')
})
