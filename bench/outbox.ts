/**
 * Events through the outbox, as issuing makes them: N credentials are issued
 * in batches of up to 1,000 with the workers stopped and one webhook
 * registered to a loopback receiver; each batch's transaction writes the
 * events, their webhook deliveries, their emails and the jobs for them
 * (set-based: a few statements per batch). Then the workers start and the
 * time to drain everything is measured: every webhook delivered and every
 * holder email sent. Prints the issue time, the drain time and events/s;
 * asserts nothing.
 *   npx tsx bench/outbox.ts [credentials=1000]
 * Emails go as .eml files (no SMTP), or with BENCH_SMTP=1 to a loopback SMTP
 * server in another process (the pooled transport production uses).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createMailer } from '../src/capabilities/notifications/email/mailer.js'
import { startJobWorkers } from '../src/background-jobs.js'
import { ACHIEVEMENT, post, startBenchService } from './harness.js'

// The SMTP receiver in a process of its own, so its CPU is not counted as the workers'.
if (process.argv[2] === '--smtp-receiver') {
  const { SMTPServer } = await import('smtp-server')
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData (stream, _session, callback) { stream.resume(); stream.on('end', () => { callback() }) }
  })
  server.listen(0, '127.0.0.1', () => { process.send?.({ port: (server.server.address() as AddressInfo).port }) })
  await new Promise(() => {})
}

const count = Number(process.argv[2] ?? 1000)
let received = 0
const receiver = createServer((request, response) => {
  request.resume()
  request.on('end', () => { received++; response.writeHead(204).end() })
}).listen(0, '127.0.0.1')
await once(receiver, 'listening')
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`

let smtp: ChildProcess | undefined
let smtpUrl: string | undefined
if (process.env.BENCH_SMTP === '1') {
  smtp = fork(new URL(import.meta.url).pathname, ['--smtp-receiver'], { execArgv: ['--import', 'tsx'] })
  const [{ port }] = await once(smtp, 'message') as [{ port: number }]
  smtpUrl = `smtp://127.0.0.1:${port}`
}

const service = await startBenchService({ OUTBOUND_ALLOW_LOOPBACK: 'true', JOB_POLL_SECONDS: '0.5' })
const { app, address, headers } = service
// The harness's achievement is missing when its request met the load shedding.
const achievementId = service.achievementId ?? ((await (await post(`${address}/api/v1/achievements`, headers, ACHIEVEMENT)).json()) as { id: string }).id
const registered = await post(`${address}/api/v1/webhooks`, headers, { url: hookUrl, events: ['credential.issued'] })
if (registered.status !== 201) throw new Error(`the webhook was refused: ${registered.status} ${await registered.text()}`)
const items = Array.from({ length: count }, (_, i) => ({ achievementId, recipient: { name: `Outbox Person ${i}`, email: `outbox${i}@example.com` } }))
const issuing = performance.now()
for (let i = 0; i < items.length; i += 1000) {
  const response = await fetch(`${address}/api/v1/credentials/batch`, { method: 'POST', headers, body: JSON.stringify({ items: items.slice(i, i + 1000) }) })
  const body = await response.json() as { summary?: { created: number }, results?: Array<{ error?: unknown }> }
  if (response.status !== 207 || body.summary?.created !== Math.min(1000, items.length - i)) throw new Error(`batch: ${response.status} ${JSON.stringify(body.results?.find((r) => r.error !== undefined) ?? body).slice(0, 500)}`)
}
const issueSeconds = (performance.now() - issuing) / 1000
const [written] = await app.sql<Array<{ events: number, deliveries: number, emails: number, fanOutJobs: number }>>`
  select (select count(*)::int from events) as events, (select count(*)::int from webhook_deliveries) as deliveries,
    (select count(*)::int from email_notifications) as emails, (select count(*)::int from pgboss.job where name = 'event-fan-out') as "fanOutJobs"`
const { events, deliveries, emails, fanOutJobs } = written!
console.log(`${count} credentials issued in ${issueSeconds.toFixed(1)} s (${(count / issueSeconds).toFixed(0)}/s), their transactions wrote ${events} events, ${deliveries} webhook deliveries, ${emails} emails and their jobs (fan-out jobs: ${fanOutJobs})`)

const started = performance.now()
const mailer = createMailer({ smtpUrl, from: 'bench@example.org', dataDir: service.config.dataDir })
await startJobWorkers({ sql: app.sql, jobs: app.jobs, outbox: app.outbox, mailer, urls: app.urls, config: service.config, clock: () => new Date(), log: { info: () => {}, warn: () => {}, error: () => {} }, keyRing: app.keyRing })
let emailed = 0
for (;;) {
  const [row] = await app.sql<Array<{ emails: number }>>`select count(*)::int as emails from email_notifications where state = 'sent'`
  emailed = row?.emails ?? 0
  // One webhook takes every issue, and every holder is told: a POST and an email per event (also when the workers make them).
  if (received >= events && emailed >= events) break
  await new Promise((resolve) => setTimeout(resolve, 100))
}
const seconds = (performance.now() - started) / 1000
console.log(`${events} events drained in ${seconds.toFixed(1)} s: ${(events / seconds).toFixed(0)} events/s (${received} signed webhook POSTs, ${emailed} emails rendered and ${smtpUrl !== undefined ? 'sent over SMTP' : 'written as .eml'}), one worker process; the drain took ${(seconds / issueSeconds).toFixed(2)}x the issue time`)
mailer.close()
await service.close()
receiver.close()
smtp?.kill()
