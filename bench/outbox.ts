/**
 * Events through the outbox: N credentials are issued (one batch; each
 * records its event and job in its transaction) with the workers stopped and
 * one webhook registered to a loopback receiver; then the workers start and
 * the time to drain everything is measured: every webhook delivered and every
 * holder email written (as .eml files: no SMTP). Prints events/s; asserts nothing.
 *   npx tsx bench/outbox.ts [credentials=1000]
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createMailer } from '../src/capabilities/notifications/email/mailer.js'
import { startJobWorkers } from '../src/background-jobs.js'
import { startBenchService } from './harness.js'

const count = Number(process.argv[2] ?? 1000)
let received = 0
const receiver = createServer((request, response) => {
  request.resume()
  request.on('end', () => { received++; response.writeHead(204).end() })
}).listen(0, '127.0.0.1')
await new Promise((resolve) => receiver.once('listening', resolve))
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`

const service = await startBenchService({ WEBHOOKS_ALLOW_HTTP_LOCALHOST: 'true', JOB_POLL_SECONDS: '0.5' })
const { app, address, headers, achievementId } = service
await fetch(`${address}/api/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: hookUrl, events: ['credential.issued'] }) })
const items = Array.from({ length: count }, (_, i) => ({ achievementId, recipient: { name: `Outbox Person ${i}`, email: `outbox${i}@example.com` } }))
for (let i = 0; i < items.length; i += 1000) {
  await fetch(`${address}/api/v1/credentials/batch`, { method: 'POST', headers, body: JSON.stringify({ items: items.slice(i, i + 1000) }) })
}
const [counted] = await app.sql<Array<{ n: number }>>`select count(*)::int as n from events`
const events = counted?.n ?? 0

const started = performance.now()
const mailer = createMailer({ smtpUrl: undefined, from: 'bench@example.org', dataDir: service.config.dataDir })
await startJobWorkers({ sql: app.sql, jobs: app.jobs, outbox: app.outbox, mailer, urls: app.urls, config: service.config, clock: () => new Date(), log: { info: () => {}, warn: () => {}, error: () => {} }, keyRing: app.keyRing })
for (;;) {
  const [row] = await app.sql<Array<{ emails: number }>>`select count(*)::int as emails from email_notifications where state = 'sent'`
  if (received >= events && (row?.emails ?? 0) >= events) break
  await new Promise((resolve) => setTimeout(resolve, 200))
}
const seconds = (performance.now() - started) / 1000
console.log(`${events} events drained in ${seconds.toFixed(1)} s: ${(events / seconds).toFixed(0)} events/s (each: fan-out, one signed webhook POST, one email rendered and written), one worker process`)
await service.close()
receiver.close()
