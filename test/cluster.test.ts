import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { startServiceProcess, type ServiceProcess } from './helpers/service-process.js'

/**
 * WEB_CONCURRENCY: the real server (src/server.ts, as `npm start` runs it) on
 * the test database, its HTTP processes told apart by /health's
 * X-Tessera-Process header (the answering process's pid).
 */

const SERVER = new URL('../src/server.ts', import.meta.url).pathname
const ADMIN_KEY = 'cluster-test-admin-key-0123456789abcdef'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '').map(Number)
  } catch {
    return []
  }
}

/** The real server from its sources (src/server.ts, as `npm start` runs it), ready once its primary says every HTTP process listens. */
async function start (t: Test, env: Record<string, string>): Promise<ServiceProcess> {
  return await startServiceProcess(t, {
    nodeArgs: ['--import', 'tsx', SERVER],
    // The repository, where --import tsx resolves; everything the server writes goes to DATA_DIR.
    cwd: new URL('..', import.meta.url).pathname,
    adminKey: ADMIN_KEY,
    env: { ISSUER_NAME: 'Cluster Test Board', LOG_LEVEL: 'info', RATE_LIMIT_VERIFY_PER_MINUTE: '100000', MAX_EVENT_LOOP_DELAY_MS: '0', DATA_INTEGRITY_THREADS: '0', ...env },
    readyWhenLogged: /Tessera is serving/
  })
}

/** The distinct processes that answered `requests` GET /health, each on a new connection. */
async function answering (base: string, requests: number): Promise<Set<number>> {
  const pids = new Set<number>()
  for (let i = 0; i < requests; i++) {
    const response = await fetch(`${base}/health`, { headers: { connection: 'close' } }).catch(() => undefined)
    const header = response?.headers.get('x-tessera-process')
    if (response?.status === 200 && header != null) pids.add(Number(header))
  }
  return pids
}

t.test('WEB_CONCURRENCY=2: two HTTP processes on one port and one job worker; they issue and verify; a killed one is replaced; SIGTERM stops them all with 0', { skip: process.platform === 'linux' ? false : 'reads the process tree from /proc', timeout: 420_000 }, async (t) => {
  const running = await start(t, { WEB_CONCURRENCY: '2' })
  const { base, child } = running
  const primary = child.pid ?? 0

  const pids = await answering(base, 40)
  t.equal(pids.size, 2, `two processes answered (${[...pids].join(', ')})`)
  t.notOk(pids.has(primary), 'the primary serves no requests')
  const children = childrenOf(primary)
  for (const pid of pids) t.ok(children.includes(pid), `${pid} is a child of the primary`)
  t.equal(children.length, 3, 'the primary runs two HTTP processes and one job-worker process')
  const arenas = process.env.MALLOC_ARENA_MAX ?? '2'
  for (const pid of children) {
    const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    t.ok(environment.includes(`MALLOC_ARENA_MAX=${arenas}`), `child ${pid} starts with MALLOC_ARENA_MAX=${arenas} (glibc reads it at start)`)
  }

  const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
  const achievement = await fetch(`${base}/api/v1/achievements`, {
    method: 'POST', headers: auth, body: JSON.stringify({ name: 'CMA (AAMA)', description: 'Certified Medical Assistant.', criteria: { narrative: 'Passed the CMA (AAMA) Certification Exam.' }, achievementType: 'Certification', validityMonths: 60 })
  })
  t.equal(achievement.status, 201, 'an achievement is created with the staff key the primary passed on')
  const { id: achievementId } = await achievement.json() as { id: string }
  const issuing = await fetch(`${base}/api/v1/credentials`, { method: 'POST', headers: auth, body: JSON.stringify({ achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } }) })
  t.equal(issuing.status, 201, 'issued through the cluster')
  if (issuing.status !== 201) throw new Error(`issuing: ${issuing.status} ${await issuing.text()}\n${running.log().split('\n').filter((l) => /"level":[56]0/.test(l)).join('\n')}`)
  const issued = await issuing.json() as { url: string, credential: Record<string, unknown> }
  // Fresh connections, so both processes serve and verify it.
  for (let i = 0; i < 4; i++) {
    const served = await fetch(issued.url, { headers: { accept: 'application/ld+json', connection: 'close' } })
    t.equal(served.status, 200, `GET of the credential (${i + 1})`)
    t.same((await served.json() as { proof: unknown }).proof, issued.credential.proof, 'the same signed credential')
    const verified = await fetch(`${base}/credentials/verify`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ verifiableCredential: issued.credential }) })
    t.equal(verified.status, 200, `verified (${i + 1})`)
    t.equal((await verified.json() as { verified: boolean }).verified, true)
  }

  const victim = [...pids][0]!
  process.kill(victim, 'SIGKILL')
  let replaced: Set<number> = new Set()
  for (let attempt = 0; attempt < 180 && !(replaced.size === 2 && !replaced.has(victim)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    replaced = await answering(base, 10)
  }
  t.notOk(replaced.has(victim), 'the killed process answers no more')
  t.equal(replaced.size, 2, `two processes answer again (${[...replaced].join(', ')})`)
  t.match(running.log(), new RegExp(`HTTP process \\d \\(pid ${victim}\\) exited \\(signal SIGKILL\\): starting it again`), 'the primary logged the restart')
  t.equal(childrenOf(primary).length, 3, 'three children again')

  const before = childrenOf(primary)
  child.kill('SIGTERM')
  const started = Date.now()
  t.equal((await running.closed).code, 0, 'the primary exits 0')
  t.ok(Date.now() - started < 15_000, 'within the shutdown bound')
  for (const pid of before) t.notOk(alive(pid), `child ${pid} is gone`)
})

t.test('WEB_CONCURRENCY=1 runs one process: no children, the server answers from its own pid', { timeout: 120_000 }, async (t) => {
  const running = await start(t, { WEB_CONCURRENCY: '1' })
  const pids = await answering(running.base, 5)
  t.same([...pids], [running.child.pid], 'the process started answers itself')
  t.same(childrenOf(running.child.pid ?? 0), [], 'and forked nothing (the Data Integrity threads are threads)')
  running.child.kill('SIGTERM')
  t.equal((await running.closed).code, 0)
})
