/**
 * The benchmark table: the service in its own process (compiled, node dist/server.js) on a
 * real PostgreSQL (embedded unless DATABASE_URL is set), loaded with
 * realistic data, driven over HTTP by autocannon, next to the bare library
 * rates on this machine. Prints one table; asserts nothing.
 *   npm run bench                 (BENCH_SECONDS=5 per scenario, BENCH_CONNECTIONS=50;
 *                                  BENCH_NODE_ARGS: node flags for the service;
 *                                  BENCH_PRELOAD=100000: that many credentials in the database first)
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { connect } from '../src/infrastructure/db/connect.js'
import { freePort, startEmbeddedPostgres } from '../src/infrastructure/db/embedded.js'
import { createDocumentLoader, staticDocumentLoader } from '../src/infrastructure/jsonld/document-loader.js'
import { preloadCredentials } from './preload.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const UNSEEN = Number(process.env.BENCH_UNSEEN ?? 2000)
// Credentials copied into the database in SQL before measuring (bench/preload.ts), e.g. 100000.
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 0)
const ADMIN = 'bench-admin-key-0123456789abcdefghijklmnopq'

const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-'))
const embedded = process.env.DATABASE_URL === undefined ? await startEmbeddedPostgres(path.join(dir, 'pg'), { throwaway: true }) : undefined
const serverUrl = process.env.DATABASE_URL ?? embedded?.url ?? ''
const admin = connect(serverUrl, { max: 1 })
const dbName = `tessera_bench_${process.pid}`
await admin.unsafe(`create database ${dbName}`)
const dbUrl = new URL(serverUrl)
dbUrl.pathname = `/${dbName}`
const port = await freePort()
const base = `http://127.0.0.1:${port}`
// The service as production runs it: npm run build, then package.json's start:prod
// (node with its heap cap, dist/server.js). Under tsx the same code holds about
// 65 MB more (the TypeScript loader).
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
const startProd = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod']?.split(' ').slice(1) ?? ['dist/server.js']
const server = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...startProd], {
  env: {
    ...process.env,
    DATABASE_URL: dbUrl.href,
    // A fresh database: the service migrates it as it starts.
    MIGRATE_ON_BOOT: 'true',
    DATA_DIR: path.join(dir, 'data'),
    PORT: String(port),
    PUBLIC_BASE_URL: base,
    ADMIN_API_KEY: ADMIN,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_VERIFY_PER_MINUTE: '1000000',
    RATE_LIMIT_LOOKUP_PER_MINUTE: '1000000',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    NODE_ENV: 'development'
  },
  stdio: ['ignore', 'inherit', 'inherit']
})
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }
for (let i = 0; i < 200; i++) {
  try { if ((await fetch(`${base}/ready`)).ok) break } catch {}
  await new Promise((resolve) => setTimeout(resolve, 250))
}

const post = async (url: string, body: unknown): Promise<any> => await (await fetch(`${base}${url}`, { method: 'POST', headers, body: JSON.stringify(body) })).json()
const achievement = await post('/api/v1/achievements', { name: 'CMA (AAMA)', description: 'Certified Medical Assistant (AAMA).', criteria: { narrative: 'Passed the exam.' }, achievementType: 'Certification', validityMonths: 60 })
const seen = await post('/api/v1/credentials', { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
const listUrl = new URL(seen.credential.credentialStatus.statusListCredential).pathname
let preloadSeconds = 0
if (PRELOAD > 0) {
  const started = performance.now()
  const db = connect(dbUrl.href, { max: 1, statementTimeoutMs: 600_000 })
  await preloadCredentials(db, seen.id, PRELOAD)
  await db.end()
  preloadSeconds = (performance.now() - started) / 1000
}
const credentialPath = new URL(seen.url).pathname

// Batch issuance, end to end and stored: also the unseen credentials for the verify run.
const unseen: unknown[] = []
let batchSeconds = 0
let batchRss = 0
for (let done = 0; done < UNSEEN; done += 1000) {
  const items = Array.from({ length: Math.min(1000, UNSEEN - done) }, (_, i) => ({ achievementId: achievement.id, recipient: { name: `Holder ${done + i}`, email: `holder${done + i}@example.org` } }))
  const started = performance.now()
  const { result, rssMiB } = await peakRss(async () => await post('/api/v1/credentials/batch', { items }))
  batchSeconds += (performance.now() - started) / 1000
  batchRss = Math.max(batchRss, rssMiB)
  for (const r of result.results) unseen.push(r.credential)
}
const batchRate = UNSEEN / batchSeconds

// The service runs its notification workers inline (the default): let them send
// the holders' emails for everything issued so far before measuring anything
// else, so that the scenarios below do not compete with that backlog.
const benchDb = connect(dbUrl.href, { max: 1 })
const drainStarted = performance.now()
let backlog = 0
for (let i = 0; i < 1200; i++) {
  const [row] = await benchDb<Array<{ n: number }>>`select count(*)::int as n from pgboss.job where state in ('created', 'retry', 'active') and name in ('event-fan-out', 'email-send')`
  backlog = row?.n ?? 0
  if (backlog === 0) break
  await new Promise((resolve) => setTimeout(resolve, 500))
}
const drainSeconds = (performance.now() - drainStarted) / 1000
await benchDb.end()

interface Row { name: string, rps: number, p50: number, p99: number, errors: number, rssMiB: number, ratioTo?: string }
const rows: Row[] = []
/** The service's largest resident set while `during` runs (VmRSS sampled every 100 ms). */
async function peakRss<T> (during: () => Promise<T>): Promise<{ result: T, rssMiB: number }> {
  let peak = 0
  const sample = (): void => {
    const kb = readFileSync(`/proc/${server.pid ?? 0}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)?.[1]
    peak = Math.max(peak, Number(kb ?? 0) / 1024)
  }
  const timer = setInterval(sample, 100)
  try {
    const result = await during()
    sample()
    return { result, rssMiB: peak }
  } finally {
    clearInterval(timer)
  }
}
async function load (name: string, options: Partial<autocannon.Options> & { path?: string }, ratioTo?: string): Promise<void> {
  const { path: urlPath, ...rest } = options
  const { result, rssMiB } = await peakRss(async () => await autocannon({ url: base + (urlPath ?? ''), connections: CONNECTIONS, duration: SECONDS, ...rest } as autocannon.Options))
  rows.push({ name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx, rssMiB, ...(ratioTo !== undefined ? { ratioTo } : {}) })
}

const verifyBody = (credential: unknown): string => JSON.stringify({ verifiableCredential: credential })
let next = 0
const unseenBodies = unseen.map(verifyBody)
await load('verify DI, seen before', { method: 'POST', path: '/credentials/verify', headers: { 'content-type': 'application/json' }, body: verifyBody(seen.credential) }, 'verify')
await load('verify DI, never seen', { requests: [{ method: 'POST', path: '/credentials/verify', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: unseenBodies[next++ % unseenBodies.length] }) }] }, 'verify')
await load('verify VC-JWT', { method: 'POST', path: '/credentials/verify', headers: { 'content-type': 'application/json' }, body: verifyBody(seen.jwt) })
await load('GET credential (JSON-LD)', { path: credentialPath })
await load('GET badge page (HTML)', { path: credentialPath, headers: { accept: 'text/html' } })
await load('GET og:image PNG', { path: `${credentialPath}/preview.png` })
await load('GET status list', { path: listUrl })
let serial = 0
await load('issue one credential', { requests: [{ method: 'POST', path: '/api/v1/credentials', headers, setupRequest: (req) => ({ ...req, body: JSON.stringify({ achievementId: achievement.id, recipient: { name: 'Load', email: `load${serial++}@example.org` } }) }) }] }, 'issue')

// The issuer's controller document (its keys in assertionMethod), as a verifier would fetch it.
const controller = await (await fetch(`${base}/issuers/main`, { headers: { accept: 'application/ld+json' } })).json() as { id: string, assertionMethod: Array<Record<string, unknown>> }
const rss = readFileSync(`/proc/${server.pid ?? 0}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)?.[1]
server.kill('SIGTERM')

// The bare library on this machine, one thread, the same credential.
const issuerDoc = JSON.parse(JSON.stringify(seen.credential.issuer))
const loader = createDocumentLoader(async (url) => {
  if (url === controller.id) return controller
  const method = controller.assertionMethod.find((m) => m.id === url)
  return method === undefined ? undefined : { '@context': 'https://w3id.org/security/multikey/v1', ...method }
})
const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 })
const timeLoop = async (fn: () => Promise<unknown>, seconds = 3): Promise<number> => {
  for (let i = 0; i < 20; i++) await fn()
  let n = 0
  const end = performance.now() + seconds * 1000
  while (performance.now() < end) { await fn(); n++ }
  return n / seconds
}
const libVerify = await timeLoop(async () => {
  const r = await vc.verifyCredential({ credential: seen.credential, suite, documentLoader: loader, checkStatus: async () => ({ verified: true }) })
  if (r.verified !== true) throw new Error(`library verify failed: ${JSON.stringify(r.error)}`)
})
const keyPair = await Ed25519Multikey.generate({ controller: issuerDoc.id, id: `${issuerDoc.id}#key` })
const { proof: _p, ...unsigned } = seen.credential
const libIssue = await timeLoop(async () => await vc.issue({ credential: structuredClone(unsigned), suite: new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022 }), documentLoader: staticDocumentLoader }))

const ratio = (row: Row): string => row.ratioTo === 'verify' ? `${(row.rps / libVerify).toFixed(2)}x lib verify` : row.ratioTo === 'issue' ? `${(row.rps / libIssue).toFixed(2)}x lib issue` : ''
console.log(`\nTessera bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s each, load generator on the same machine${PRELOAD > 0 ? `; ${PRELOAD} credentials preloaded in SQL (${preloadSeconds.toFixed(0)} s)` : '; empty database'}\n`)
console.log('| scenario | req/s | p50 ms | p99 ms | errors | RSS MiB | ratio |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |')
for (const row of rows) console.log(`| ${row.name} | ${row.rps.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.rssMiB.toFixed(0)} | ${ratio(row)} |`)
console.log(`| batch issue (${UNSEEN} in batches of 1,000, stored) | ${batchRate.toFixed(0)} credentials/s | | | | ${batchRss.toFixed(0)} | ${(batchRate / libIssue).toFixed(2)}x lib issue |`)
console.log(`| notifications drained after the batches (${UNSEEN + 1} events: fan-out and email) | ${drainSeconds.toFixed(0)} s${backlog > 0 ? `, ${backlog} left` : ''} | | | | | |`)
console.log(`| library: vc.verifyCredential, one thread | ${libVerify.toFixed(0)}/s | | | | | 1x |`)
console.log(`| library: vc.issue, one thread | ${libIssue.toFixed(0)}/s | | | | | 1x |`)
console.log(`\nservice peak RSS (VmHWM): ${rss === undefined ? '?' : (Number(rss) / 1024).toFixed(0)} MiB`)

await new Promise((resolve) => server.once('exit', resolve))
await admin.unsafe(`drop database if exists ${dbName} with (force)`)
await admin.end()
await embedded?.stop()
await rm(dir, { recursive: true, force: true })
