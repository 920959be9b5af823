/**
 * Issuing at scale through the staff API: N credentials (default 100,000) in batches of
 * 1,000 against the service as production runs it (compiled, start:prod's command, its
 * notification workers inline), then the time for their emails to drain. Reports the
 * total time, the CPU per credential of the service (its whole process tree) and of
 * PostgreSQL, and from that the cores at which N would take under 3 minutes if the work
 * spread evenly over them. Prints markdown; asserts nothing.
 *   npx tsx bench/issue-100k.ts [count=100000]
 *   BENCH_PROCESSES (WEB_CONCURRENCY), BENCH_ISSUE_PARALLEL (batches in flight, default: cores),
 *   BENCH_DRAIN_MAX_SECONDS (default 1800), DATABASE_URL (else an embedded PostgreSQL)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { connect } from '../src/infrastructure/db/connect.js'
import { openBenchDatabase } from './database.js'
import { exitWhenDone } from './exit.js'
import { createAchievement, emailsDone, issueInBatches, waitForEmails } from './issuing.js'
import { measured } from './measure.js'
import { buildService, startService, type RunningService } from './service.js'

const COUNT = Number(process.argv[2] ?? process.env.BENCH_ISSUE_COUNT ?? 100_000)
const PARALLEL = Number(process.env.BENCH_ISSUE_PARALLEL ?? os.availableParallelism())
const PROCESSES = process.env.BENCH_PROCESSES === undefined || process.env.BENCH_PROCESSES === '' ? undefined : Number(process.env.BENCH_PROCESSES)
const DRAIN_MAX_SECONDS = Number(process.env.BENCH_DRAIN_MAX_SECONDS ?? 1800)
const TARGET_SECONDS = 180

buildService()
const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-'))
const database = await openBenchDatabase(dir)
const dbName = `tessera_bench_${process.pid}`
let service: RunningService | undefined
try {
  const databaseUrl = await database.create(dbName)
  service = await startService({ databaseUrl, dataDir: path.join(dir, 'data'), processes: PROCESSES })
  const processes = service.pids().length
  const achievement = await createAchievement(service.base)
  const sql = connect(databaseUrl, { max: 1 })
  try {
    const emailsBefore = await emailsDone(sql)
    let reported = 0
    const issuing = await measured(service, database, async () => await issueInBatches(service?.base ?? '', achievement.id, COUNT, {
      parallel: PARALLEL,
      prefix: 'scale',
      onBatch: (done) => {
        if (done - reported >= 10_000 || done === COUNT) { reported = done; console.error(`bench: ${done} issued`) }
      }
    }))
    const drain = await measured(service, database, async () => await waitForEmails(sql, emailsBefore + issuing.result.created, DRAIN_MAX_SECONDS))
    const peaks = service.peaks()
    const us = (cpu: number): string => (cpu * 1e6 / Math.max(1, issuing.result.created)).toFixed(0)
    // Cores for COUNT in TARGET_SECONDS if the CPU measured here spread evenly over them
    // (service and PostgreSQL; the load generator is the clients' cost, not the service's).
    const cores = (cpu: number): string => (cpu / Math.max(1, issuing.result.created) * COUNT / TARGET_SECONDS).toFixed(1)
    const issuingCpu = issuing.serviceCpu + issuing.postgresCpu
    const withEmails = issuingCpu + drain.serviceCpu + drain.postgresCpu
    const lines = [
      '',
      `Tessera issuing at scale: ${COUNT} credentials in batches of 1,000, ${PARALLEL} in flight; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; service: ${processes} process(es) (${PROCESSES === undefined ? 'WEB_CONCURRENCY unset: the service\'s default' : `WEB_CONCURRENCY=${PROCESSES}`}); ${database.description}`,
      '',
      '| measure | value |',
      '| --- | ---: |',
      `| created / failed | ${issuing.result.created} / ${issuing.result.failed} |`,
      `| issuing time | ${issuing.seconds.toFixed(1)} s (${(issuing.result.created / issuing.seconds).toFixed(0)} credentials/s; ${TARGET_SECONDS} s is the goal) |`,
      `| emails drained, after issuing ended | ${drain.seconds.toFixed(1)} s${drain.result > 0 ? ` (${drain.result} still pending)` : ''} |`,
      `| service CPU per credential, issuing | ${us(issuing.serviceCpu)} µs |`,
      `| PostgreSQL CPU per credential, issuing | ${us(issuing.postgresCpu)} µs |`,
      `| service + PostgreSQL CPU per credential, with the emails' drain | ${us(withEmails)} µs |`,
      `| load generator CPU per credential | ${us(issuing.generatorCpu)} µs |`,
      `| cores for ${COUNT} in < ${TARGET_SECONDS} s (CPU-bound, spread evenly): issuing | ${cores(issuingCpu)} |`,
      `| the same with the emails drained in that time too | ${cores(withEmails)} |`,
      '',
      `Peak RSS per service process (VmHWM, MiB): ${peaks.map((p) => `${p.comm} ${p.pid}: ${p.peakMiB.toFixed(0)}`).join(', ')}.`
    ]
    console.log(lines.join('\n'))
  } finally {
    await sql.end({ timeout: 5 })
  }
} finally {
  const problem = await service?.stop()
  if (problem !== undefined) console.error(`bench: ${problem}`)
  await database.drop(dbName)
  await database.close()
  await rm(dir, { recursive: true, force: true })
}
exitWhenDone()
