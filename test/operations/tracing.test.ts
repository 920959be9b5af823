import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { register } from 'node:module'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import t from 'tap'

/**
 * Traces (OpenTelemetry): with an OTLP endpoint configured, one issue request
 * reaches a collector (a node:http receiver here, reading the exporter's
 * OTLP/JSON) as a SERVER span with the statements and signatures it caused
 * as descendants, and the job it added carries its request id; without one,
 * the SDK is never loaded and nothing is recorded.
 *
 * Which modules load is observed with a module resolve hook registered before
 * the app is imported (hence the dynamic imports below): every
 * @opentelemetry package the process resolves is reported to this thread.
 */

const hookDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-tracing-hook-'))
const hookFile = path.join(hookDir, 'hooks.mjs')
await writeFile(hookFile, `
let port
const resolved = []
export async function initialize (data) {
  port = data.port
  port.on('message', () => { port.postMessage([...resolved]) })
}
export async function resolve (specifier, context, next) {
  const result = await next(specifier, context)
  const match = /node_modules\\/(@opentelemetry\\/[^/]+)\\//.exec(result.url)
  if (match !== null && !resolved.includes(match[1])) resolved.push(match[1])
  return result
}
`)
const { port1, port2 } = new MessageChannel()
register(pathToFileURL(hookFile).href, { data: { port: port2 }, transferList: [port2] })
port1.unref()
/** The @opentelemetry packages resolved so far (asked of the hook's thread, which answers after any earlier resolution). */
const loadedPackages = async (): Promise<string[]> => {
  port1.ref()
  port1.postMessage('list')
  const [list] = await once(port1, 'message') as [string[]]
  port1.unref()
  return list
}
t.teardown(async () => { port1.close(); await rm(hookDir, { recursive: true, force: true }) })

const { build, createAchievement, issue } = await import('../helpers/build-app.js')
const { trace } = await import('@opentelemetry/api')

interface OtlpValue { stringValue?: string, intValue?: string | number, boolValue?: boolean }
interface OtlpSpan { traceId: string, spanId: string, parentSpanId?: string, name: string, kind: number, attributes?: Array<{ key: string, value: OtlpValue }>, links?: Array<{ traceId: string, spanId: string }> }
interface ExportRequest { resourceSpans: Array<{ resource?: { attributes?: Array<{ key: string, value: OtlpValue }> }, scopeSpans: Array<{ spans: OtlpSpan[] }> }> }

/** An OTLP/HTTP collector on loopback: keeps every span POSTed to /v1/traces (JSON), with its resource's service name. */
async function startCollector (): Promise<{ endpoint: string, spans: Array<OtlpSpan & { service?: string }>, requests: Array<{ url: string, contentType: string }>, close: () => Promise<void> }> {
  const spans: Array<OtlpSpan & { service?: string }> = []
  const requests: Array<{ url: string, contentType: string }> = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      requests.push({ url: request.url ?? '', contentType: request.headers['content-type'] ?? '' })
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest
      for (const resourceSpans of body.resourceSpans) {
        const service = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) spans.push({ ...span, ...(service !== undefined ? { service } : {}) })
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { endpoint: `http://127.0.0.1:${port}`, spans, requests, close: async () => { await new Promise((resolve) => server.close(resolve)) } }
}

const attribute = (span: OtlpSpan, key: string): string | number | boolean | undefined => {
  const value = span.attributes?.find((a) => a.key === key)?.value
  return value?.stringValue ?? (value?.intValue !== undefined ? Number(value.intValue) : value?.boolValue)
}

t.test('with no OTLP endpoint, the SDK is never loaded and an issue request records no span', async (t) => {
  const app = await build(t)
  t.equal(app.config.tracing, undefined, 'tracing is off by default')
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  t.ok(issued.jwt, 'the credential was issued')
  const loaded = await loadedPackages()
  t.ok(loaded.includes('@opentelemetry/api'), `the hook sees the API the code calls (${loaded.join(', ')})`)
  for (const sdk of ['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/context-async-hooks', '@opentelemetry/resources']) {
    t.notOk(loaded.includes(sdk), `${sdk} is not loaded`)
  }
  t.notOk(trace.getTracer('probe').startSpan('probe').isRecording(), 'the API records nothing')
  const [job] = await app.sql<Array<{ data: Record<string, unknown> }>>`select data from pgboss.job where name = 'email-send'`
  t.ok(job, 'the issue added its email job')
  t.same(Object.keys(job?.data ?? {}), ['eventId'], 'the job data is as it always was')
})

t.test('an issue request reaches the OTLP collector with its statements and signatures as descendants, and its job carries its request id', async (t) => {
  const collector = await startCollector()
  t.teardown(collector.close)
  const app = await build(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.endpoint}/`, OTEL_SERVICE_NAME: 'tessera-test', WORKER: 'inline', JOB_POLL_SECONDS: '0.5', JOB_MAINTENANCE_SECONDS: '1' } })
  t.same(app.config.tracing, { tracesUrl: `${collector.endpoint}/v1/traces`, serviceName: 'tessera-test' })
  const achievement = await createAchievement(app)
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } } })
  t.equal(response.statusCode, 201, response.body)
  // The email job (added with the event) is worked inline: wait for it, then close the app (which flushes the exporter).
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const [row] = await app.sql<Array<{ state: string }>>`select state from pgboss.job where name = 'email-send'`
    if (row?.state === 'completed') break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await app.app.close()
  t.ok(collector.requests.length > 0, 'the exporter posted')
  t.ok(collector.requests.every((r) => r.url === '/v1/traces' && r.contentType.startsWith('application/json')), 'OTLP/HTTP JSON to /v1/traces')

  const { spans } = collector
  const request = spans.find((s) => s.name === 'POST /api/v1/credentials')
  if (request === undefined) { t.fail(`no request span among ${spans.map((s) => s.name).join(', ')}`); return }
  t.equal(request.kind, 2, 'a SERVER span')
  t.equal(request.service, 'tessera-test', 'under OTEL_SERVICE_NAME')
  t.equal(attribute(request, 'http.route'), '/api/v1/credentials')
  t.equal(attribute(request, 'http.request.method'), 'POST')
  t.equal(attribute(request, 'http.response.status_code'), 201)
  const requestId = attribute(request, 'tessera.request_id')
  t.match(requestId, /^\S+$/, 'the request id')
  t.equal(request.parentSpanId ?? '', '', 'the request span is the root of its trace')

  const byId = new Map(spans.map((s) => [s.spanId, s]))
  const descends = (span: OtlpSpan): boolean => {
    for (let at: OtlpSpan | undefined = span; at !== undefined; at = at.parentSpanId !== undefined && at.parentSpanId !== '' ? byId.get(at.parentSpanId) : undefined) {
      if (at.spanId === request.spanId) return at !== span
    }
    return false
  }
  const inRequest = spans.filter((s) => s.traceId === request.traceId && s !== request)
  t.ok(inRequest.every(descends), 'every other span of the trace descends from the request span')

  const statements = inRequest.filter((s) => attribute(s, 'db.system.name') === 'postgresql')
  t.ok(statements.length >= 3, `statements traced (${statements.length})`)
  t.ok(statements.some((s) => s.parentSpanId === request.spanId), 'a statement is a direct child of the request span')
  t.ok(statements.some((s) => s.name === 'INSERT' && /insert into/i.test(String(attribute(s, 'db.query.text')))), 'an INSERT, its text as sent')
  t.ok(statements.every((s) => s.kind === 3), 'statements are CLIENT spans')
  const everything = JSON.stringify(spans)
  t.notOk(everything.includes('jane@example.org'), 'no parameter value (the recipient email) in any span')
  t.notOk(everything.includes('Jane Q. Assistant'), 'nor the recipient name')

  const dataIntegrity = inRequest.filter((s) => s.name === 'sign data-integrity')
  const jwt = inRequest.filter((s) => s.name === 'sign vc-jwt')
  // The credential's proof, and the status list's (the issuer's first list is made and signed by this issue).
  t.equal(dataIntegrity.length, 2, 'Data Integrity signatures: the credential and its new status list')
  t.equal(jwt.length, 1, 'one VC-JWT signature')
  t.ok(attribute(dataIntegrity[0]!, 'tessera.key_id'), 'the signing key id')

  // The email job, added in the request's transaction, ran in a trace of its own linked to the request's.
  const job = spans.find((s) => s.name === 'job email-send')
  if (job === undefined) { t.fail('no job span'); return }
  t.equal(attribute(job, 'tessera.request_id'), requestId, 'the job span names the request that added it')
  t.equal(job.kind, 5, 'a CONSUMER span')
  t.not(job.traceId, request.traceId, 'in a trace of its own')
  t.ok(job.links?.some((link) => link.traceId === request.traceId && inRequest.concat(request).some((s) => s.spanId === link.spanId)), 'linked to the span that added it')
  t.ok(spans.some((s) => s.traceId === job.traceId && s.parentSpanId === job.spanId && attribute(s, 'db.system.name') === 'postgresql'), 'the job\'s statements are its children')
  const [stored] = await app.sql<Array<{ data: { traceOrigin?: { requestId?: string } } }>>`select data from pgboss.job where name = 'email-send'`
  t.equal(stored?.data.traceOrigin?.requestId, requestId, 'the job data carries the request id')
})
