/**
 * The benchmark table: the library's bare rates in a process of their own on a quiet
 * machine, then the service in its own processes (compiled, start:prod's command) on a real
 * PostgreSQL (embedded unless DATABASE_URL is set), loaded with realistic data, driven over
 * HTTP by autocannon. Each scenario also reports the CPU it cost per request (service,
 * PostgreSQL, the load generator) from /proc, so runs compare across machines. Prints
 * markdown tables; asserts nothing. Options (environment): see bench/README.md.
 *   npm run bench
 *   BENCH_RUNS=3 npm run bench                      (three runs, then their medians)
 *   BENCH_COMPARE_PROCESSES=1,2 BENCH_MAIN=off npm run bench   (GET and seen verify, 1 vs 2 processes)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { connect } from '../src/infrastructure/db/connect.js'
import { openBenchDatabase, type BenchDatabase } from './database.js'
import { createAchievement, emailsDone, issueInBatches, post, waitForEmails, waitForNoPendingEmails } from './issuing.js'
import { preloadCredentials } from './preload.js'
import { measured } from './measure.js'
import { printReport, type Compared, type Row, type RunResult } from './report.js'
import { adminHeaders, buildService, startService, type RunningService } from './service.js'
import { exitWhenDone } from './exit.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const UNSEEN = Number(process.env.BENCH_UNSEEN ?? 2000)
// Credentials copied into the database in SQL before measuring (bench/preload.ts), e.g. 100000.
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 0)
const RUNS = Number(process.env.BENCH_RUNS ?? 1)
// WEB_CONCURRENCY for the service; unset leaves the service's default (one process per core).
const PROCESSES = process.env.BENCH_PROCESSES === undefined || process.env.BENCH_PROCESSES === '' ? undefined : Number(process.env.BENCH_PROCESSES)
const COMPARE = (process.env.BENCH_COMPARE_PROCESSES ?? '').split(',').filter(Boolean).map(Number)
const MAIN = !['off', '0', 'false'].includes(process.env.BENCH_MAIN ?? '')
// How long to wait for the batch's emails before reporting them as not drained.
const DRAIN_MAX_SECONDS = Number(process.env.BENCH_DRAIN_MAX_SECONDS ?? 300)

// The service now running, stopped before another starts and whatever happens.
let current: RunningService | undefined

buildService()
const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-'))
const database = await openBenchDatabase(dir)
const results: RunResult[] = []
try {
  for (let run = 1; run <= RUNS; run++) {
    results.push(await benchRun(run, database))
    printReport({ results: results.slice(-1), database: database.description, header: header(`run ${run} of ${RUNS}`) })
  }
  if (RUNS > 1) printReport({ results, database: database.description, header: header(`medians of ${RUNS} runs`), medians: true })
} finally {
  await database.close()
  await rm(dir, { recursive: true, force: true })
}
exitWhenDone()

function header (what: string): string {
  return `Tessera bench, ${what}: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s each, load generator on the same machine${PRELOAD > 0 ? `; ${PRELOAD} credentials preloaded in SQL` : '; empty database'}`
}

/** One whole run on a database of its own: library baseline, then the service's scenarios. */
async function benchRun (run: number, database: BenchDatabase): Promise<RunResult> {
  const dbName = `tessera_bench_${process.pid}_${run}`
  const databaseUrl = await database.create(dbName)
  const dataDir = path.join(dir, `data-${run}`)
  const notes: string[] = []
  try {
    // The service issues the credential the library is measured on (the same document), then
    // stops, so that the library runs alone.
    let service = await start({ databaseUrl, dataDir, processes: PROCESSES })
    const { base, port } = service
    const achievement = await createAchievement(base)
    const seen = await post(base, '/api/v1/credentials', { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
    const controller = await (await fetch(`${base}/issuers/main`, { headers: { accept: 'application/ld+json' } })).json()
    noteStop(notes, await service.stop())
    if (PRELOAD > 0) {
      const started = performance.now()
      const db = connect(databaseUrl, { max: 1, statementTimeoutMs: 600_000 })
      await preloadCredentials(db, seen.id, PRELOAD)
      await db.end()
      notes.push(`${PRELOAD} credentials preloaded in ${((performance.now() - started) / 1000).toFixed(0)} s`)
    }
    const library = MAIN ? await libraryBaseline(seen.credential, controller) : undefined

    const result: RunResult = { rows: [], compared: [], peaks: [], processes: 0, library, notes }
    if (MAIN) {
      service = await start({ databaseUrl, dataDir, processes: PROCESSES, port })
      await mainScenarios(service, database, databaseUrl, achievement.id, seen, result)
      result.processes = service.pids().length
      result.peaks = service.peaks()
      noteStop(notes, await service.stop())
    }
    for (const processes of COMPARE) {
      service = await start({ databaseUrl, dataDir, processes, port })
      // The emails queued by the scenarios before (issue one credential) are sent by this
      // service's job workers: let them finish first, or they compete with what is measured.
      const sql = connect(databaseUrl, { max: 1 })
      const pending = await waitForNoPendingEmails(sql, DRAIN_MAX_SECONDS)
      await sql.end({ timeout: 5 })
      if (pending > 0) notes.push(`${pending} emails still pending when the ${processes}-process comparison started`)
      const credentialPath = new URL(seen.url).pathname
      for (const [name, options] of [
        ['verify DI, seen before', { method: 'POST', path: '/credentials/verify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ verifiableCredential: seen.credential }) }],
        ['GET credential (JSON-LD)', { path: credentialPath }]
      ] as const) {
        const row = await load(service, database, name, options as LoadOptions)
        result.compared.push({ ...row, processes, ran: service.pids().length } satisfies Compared)
      }
      noteStop(notes, await service.stop())
    }
    return result
  } finally {
    // After a failure too: no service process may outlive the bench.
    await current?.stop()
    await database.drop(dbName)
  }
}

async function start (options: Parameters<typeof startService>[0]): Promise<RunningService> {
  if (current !== undefined) await current.stop()
  current = await startService(options)
  return current
}

function noteStop (notes: string[], problem: string | undefined): void {
  if (problem !== undefined) notes.push(problem)
}

/** The library's rates, in a child process of its own while nothing else of the bench runs. */
async function libraryBaseline (credential: unknown, controller: unknown): Promise<{ verify: number, issue: number }> {
  const input = path.join(dir, 'library-input.json')
  await writeFile(input, JSON.stringify({ credential, controller }))
  // The same node and loader flags as this process (tsx), so the child runs the TypeScript too.
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [...process.execArgv, path.join(import.meta.dirname, 'library-baseline.ts'), input, String(Number(process.env.BENCH_LIBRARY_SECONDS ?? 3))], { maxBuffer: 1 << 20 }, (error, out, err) => {
      if (error !== null) reject(new Error(`library baseline failed: ${error.message}\n${err}`))
      else resolve(out)
    })
  })
  const { verifyPerSecond, issuePerSecond } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { verifyPerSecond: number, issuePerSecond: number }
  return { verify: verifyPerSecond, issue: issuePerSecond }
}

type LoadOptions = Partial<autocannon.Options> & { path?: string }

async function load (service: RunningService, database: BenchDatabase, name: string, options: LoadOptions, ratioTo?: 'verify' | 'issue'): Promise<Row> {
  const { path: urlPath, ...rest } = options
  let instance: autocannon.Instance | undefined
  const m = await measured(service, database, async () => await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({ url: service.base + (urlPath ?? ''), connections: CONNECTIONS, duration: SECONDS, ...rest } as autocannon.Options, (error, result) => { error === null || error === undefined ? resolve(result) : reject(error) })
  }))
  // autocannon closes its sockets when its duration ends; stop() makes sure nothing lingers.
  instance?.stop()
  const r = m.result
  const requests = Math.max(1, r.requests.total)
  return {
    name,
    rate: r.requests.average,
    unit: 'req/s',
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
    serviceUs: m.serviceCpu * 1e6 / requests,
    postgresUs: m.postgresCpu * 1e6 / requests,
    generatorUs: m.generatorCpu * 1e6 / requests,
    generatorCores: m.generatorCpu / m.seconds,
    rssMiB: m.rssMiB,
    ...(ratioTo !== undefined ? { ratioTo } : {})
  }
}

async function mainScenarios (service: RunningService, database: BenchDatabase, databaseUrl: string, achievementId: string, seen: any, result: RunResult): Promise<void> {
  const base = service.base
  const sql = connect(databaseUrl, { max: 1 })
  try {
    // Batch issuance, end to end: stored, both proofs, notifications queued (the service's
    // workers run inline); also the never-seen credentials for the verify scenario.
    const emailsBefore = await emailsDone(sql)
    const expectedEmails = UNSEEN + 1 - emailsBefore
    const batch = await measured(service, database, async () => await issueInBatches(base, achievementId, UNSEEN, { keep: true }))
    const batchEnd = performance.now()
    // The holders' emails for everything issued so far, timed from the batch's start, so that
    // the scenarios below do not compete with that backlog either.
    const drain = await measured(service, database, async () => await waitForEmails(sql, UNSEEN + 1, DRAIN_MAX_SECONDS))
    const drainFromBatchStart = batch.seconds + (performance.now() - batchEnd) / 1000
    const unseen = batch.result.credentials
    const per = (cpu: number, n: number): number => cpu * 1e6 / Math.max(1, n)
    result.rows.push({
      name: `batch issue (${UNSEEN} in batches of 1,000: stored, both proofs, notifications queued)`,
      rate: UNSEEN / batch.seconds,
      unit: 'credentials/s',
      errors: batch.result.failed,
      serviceUs: per(batch.serviceCpu, UNSEEN),
      postgresUs: per(batch.postgresCpu, UNSEEN),
      generatorUs: per(batch.generatorCpu, UNSEEN),
      generatorCores: batch.generatorCpu / batch.seconds,
      rssMiB: batch.rssMiB,
      ratioTo: 'issue',
      seconds: batch.seconds
    })
    result.rows.push({
      name: `batch's emails drained (${expectedEmails}), from the batch's start`,
      rate: drainFromBatchStart,
      unit: 's',
      errors: drain.result,
      serviceUs: per(drain.serviceCpu, expectedEmails),
      postgresUs: per(drain.postgresCpu, expectedEmails),
      rssMiB: drain.rssMiB,
      seconds: drainFromBatchStart,
      batchSeconds: batch.seconds
    })

    const verifyBody = (credential: unknown): string => JSON.stringify({ verifiableCredential: credential })
    const unseenBodies = unseen.map(verifyBody)
    // The same credentials with their keys in another order: the same meaning, another text, so
    // not known by the hash of a stored document (migration 0021): the proof is checked in full.
    const reorderedBodies = unseen.map((credential) => {
      const { proof, ...rest } = credential as Record<string, unknown>
      return verifyBody({ proof, ...rest })
    })
    let nextReordered = 0
    const credentialPath = new URL(seen.url).pathname
    const listPath = new URL(seen.credential.credentialStatus.statusListCredential).pathname
    let next = 0
    let serial = 0
    const json = { 'content-type': 'application/json' }
    const scenarios: Array<[string, LoadOptions, ('verify' | 'issue')?]> = [
      ['verify DI, seen before', { method: 'POST', path: '/credentials/verify', headers: json, body: verifyBody(seen.credential) }, 'verify'],
      ['verify DI, never seen (ours, known by its hash)', { requests: [{ method: 'POST', path: '/credentials/verify', headers: json, setupRequest: (req) => ({ ...req, body: unseenBodies[next++ % unseenBodies.length] }) }] }, 'verify'],
      ['verify DI, never seen (proof checked in full)', { requests: [{ method: 'POST', path: '/credentials/verify', headers: json, setupRequest: (req) => ({ ...req, body: reorderedBodies[nextReordered++ % reorderedBodies.length] }) }] }, 'verify'],
      ['verify VC-JWT', { method: 'POST', path: '/credentials/verify', headers: json, body: verifyBody(seen.jwt) }],
      ['GET credential (JSON-LD)', { path: credentialPath }],
      ['GET badge page (HTML)', { path: credentialPath, headers: { accept: 'text/html' } }],
      ['GET og:image PNG', { path: `${credentialPath}/preview.png` }],
      ['GET status list', { path: listPath }],
      ['issue one credential', { requests: [{ method: 'POST', path: '/api/v1/credentials', headers: adminHeaders, setupRequest: (req) => ({ ...req, body: JSON.stringify({ achievementId, recipient: { name: 'Load', email: `load${serial++}@example.org` } }) }) }] }, 'issue']
    ]
    for (const [name, options, ratioTo] of scenarios) result.rows.push(await load(service, database, name, options, ratioTo))
  } finally {
    await sql.end({ timeout: 5 })
  }
}
