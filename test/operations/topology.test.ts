import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { parse } from 'yaml'
import { freePort } from '../../src/infrastructure/db/embedded.js'
import { ENTRY_POINTS, HEALTH_PATHS, INSTANCES, NODE_FLAGS, SECRET_FILES, SERVICES, tesseraEnvironment, type TesseraService, type TopologyValues } from '../../scripts/topology-settings.js'
import { waitFor } from '../helpers/notifications.js'

/**
 * The deployment: compose.yaml (for Docker) and `npm run topology` (the same
 * services from local processes) agree, because both follow
 * scripts/topology-settings.ts; and the local topology works end to end.
 */

// Four processes and a PostgreSQL start from cold TypeScript: about a minute on a busy two-core machine.
t.setTimeout(300_000)

const ROOT = new URL('../../', import.meta.url).pathname
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8')
const compose = parse(read('compose.yaml'), { merge: true }) as {
  services: Record<string, {
    command?: string[]
    environment?: Record<string, string>
    secrets?: string[]
    healthcheck?: { test?: string[], disable?: boolean }
    depends_on?: Record<string, { condition: string }>
  }>
  secrets: Record<string, { file: string }>
}
const TESSERA: TesseraService[] = ['migrate', 'tessera-1', 'tessera-2', 'worker']
const SAMPLE: TopologyValues = {
  nodeEnv: 'production',
  publicBaseUrl: 'https://localhost',
  databaseUrlFile: '/run/secrets/database_url',
  adminApiKeyFile: '/run/secrets/admin_api_key',
  metricsTokenFile: '/run/secrets/metrics_token',
  keysDir: '/keys',
  smtpUrl: 'smtp://mail:1025',
  mailFrom: 'Tessera <badges@localhost>',
  issuerName: 'Example',
  logLevel: 'info',
  host: '0.0.0.0',
  portOf: () => 3000,
  trustProxy: '1'
}
const service = (name: string): NonNullable<typeof compose.services[string]> => {
  const found = compose.services[name]
  if (found === undefined) throw new Error(`compose.yaml has no service "${name}"`)
  return found
}

t.test('compose.yaml has the same services as the local topology, in start order', async (t) => {
  t.same(Object.keys(compose.services), [...SERVICES])
  t.same(Object.keys(service('proxy').depends_on ?? {}).sort(), [...INSTANCES].sort(), 'the proxy fronts the instances')
})

t.test('each Tessera service gets the same settings by name, the same command and Node flags as the script', async (t) => {
  for (const name of TESSERA) {
    const environment = service(name).environment ?? {}
    t.same(Object.keys(environment).sort(), Object.keys(tesseraEnvironment(name, SAMPLE)).sort(), `${name}: the same variables`)
    t.same(service(name).command, ['node', ...NODE_FLAGS[name], `dist/${ENTRY_POINTS[name]}.js`], `${name}: the compiled entry point with the script's flags`)
  }
  for (const name of INSTANCES) {
    t.equal(service(name).environment?.WORKER, 'off', `${name}: WORKER=off in compose`)
    t.equal(tesseraEnvironment(name, SAMPLE).WORKER, 'off', `${name}: WORKER=off in the script`)
  }
  t.equal(service('worker').environment?.WORKER, 'inline', 'the worker: WORKER=inline in compose')
  t.equal(tesseraEnvironment('worker', SAMPLE).WORKER, 'inline', 'the worker: WORKER=inline in the script')
  // The image's CMD and npm run start:prod carry the same old-generation cap as the instances here.
  const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1]
  t.same(JSON.parse(cmd ?? '[]'), ['node', ...NODE_FLAGS['tessera-1'], 'dist/server.js'], 'the Dockerfile CMD')
  t.equal((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start:prod'], ['node', ...NODE_FLAGS['tessera-1'], 'dist/server.js'].join(' '))
})

t.test('migrations run once, before the instances and the worker; the worker and the proxy wait for healthy instances', async (t) => {
  t.same(service('migrate').depends_on, { db: { condition: 'service_healthy' } })
  for (const name of [...INSTANCES, 'worker']) t.same(service(name).depends_on?.migrate, { condition: 'service_completed_successfully' }, name)
  for (const name of INSTANCES) t.same(service('proxy').depends_on?.[name], { condition: 'service_healthy' })
  // An instance creates the issuer at boot; the worker's key ring needs it (the script starts the worker after the instances too).
  t.same(service('worker').depends_on?.['tessera-1'], { condition: 'service_healthy' }, 'the worker waits for a ready instance')
})

t.test('health checks use the same paths in compose.yaml, deploy/Caddyfile and the script', async (t) => {
  for (const [name, healthPath] of Object.entries(HEALTH_PATHS)) {
    const probe = (service(name).healthcheck?.test ?? []).join(' ')
    t.equal(/http:\/\/127\.0\.0\.1:\d+(\/[\w-]*)/.exec(probe)?.[1], healthPath, `${name} is checked at ${healthPath}`)
  }
  t.match(service('db').healthcheck?.test?.join(' '), /pg_isready/)
  for (const name of ['migrate', 'worker']) t.equal(service(name).healthcheck?.disable, true, `${name} serves no HTTP: the image's check is off`)
  const caddy = read('deploy/Caddyfile')
  t.equal(/health_uri (\S+)/.exec(caddy)?.[1], HEALTH_PATHS['tessera-1'], 'Caddy takes an instance out at the same path')
  t.equal(/reverse_proxy ([^{]+)\{/.exec(caddy)?.[1]?.trim(), INSTANCES.map((name) => `${name}:${service(name).environment?.PORT}`).join(' '), 'Caddy balances over the instances on their ports')
})

t.test('secrets come from files: every *_FILE setting names a compose secret its service mounts', async (t) => {
  for (const name of TESSERA) {
    for (const [variable, value] of Object.entries(service(name).environment ?? {}).filter(([v]) => v.endsWith('_FILE'))) {
      const secret = SECRET_FILES[variable as keyof typeof SECRET_FILES]
      t.equal(value, `/run/secrets/${secret}`, `${name}: ${variable}`)
      t.ok(service(name).secrets?.includes(secret), `${name} mounts ${secret}`)
      t.match(compose.secrets[secret]?.file, /^\.\/deploy\/secrets\//, `${secret} is a file under deploy/secrets`)
    }
  }
  t.equal(service('db').environment?.POSTGRES_PASSWORD_FILE, '/run/secrets/db_password')
  t.ok(service('db').secrets?.includes('db_password'))
  t.notOk(Object.values(compose.services).some((s) => Object.keys(s.environment ?? {}).some((v) => ['DATABASE_URL', 'ADMIN_API_KEY', 'POSTGRES_PASSWORD'].includes(v))), 'no secret in the environment itself')
  t.same(Object.keys(compose.secrets).sort(), ['db_password', ...Object.values(SECRET_FILES)].sort(), 'every secret file is used')
})

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but is another user's (the embedded PostgreSQL runs as `postgres` when we are root).
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

interface Ready { proxy: string, instances: Record<string, string>, mail: string, adminApiKeyFile: string, metricsTokenFile: string, pids: Record<string, number> }

t.test('npm run topology: a credential issued through the proxy is served by both instances, the worker emails it, and SIGTERM leaves no process behind', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-topology-'))
  const ports = { proxy: await freePort(), a: await freePort(), b: await freePort(), smtp: await freePort(), mail: await freePort() }
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/topology.ts'),
    '--data-dir', dataDir, '--proxy-port', String(ports.proxy), '--instance-ports', `${ports.a},${ports.b}`,
    '--smtp-port', String(ports.smtp), '--mail-port', String(ports.mail), '--log-level', 'warn', '--issuer-name', 'Topology Test Board'
  ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  const output: string[] = []
  createInterface({ input: child.stderr }).on('line', (line) => output.push(line))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    await rm(dataDir, { recursive: true, force: true })
  })
  const ready = await new Promise<Ready>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line)
      if (line.startsWith('TOPOLOGY_READY ')) resolve(JSON.parse(line.slice('TOPOLOGY_READY '.length)) as Ready)
    })
    void exited.then((code) => { reject(new Error(`the topology exited (${String(code)}) before it was ready:\n${output.join('\n')}`)) })
  })
  t.same(Object.keys(ready.pids).sort(), SERVICES.filter((s) => !['migrate', 'proxy', 'mail'].includes(s)).sort(), 'a process per service (migrate ran and exited; the proxy and the sink live in the script)')
  t.equal(ready.proxy, `http://localhost:${ports.proxy}`)

  // The processes run with the settings compose.yaml gives its services (read from the kernel: Linux).
  if (existsSync(`/proc/${ready.pids.worker}/environ`)) {
    const environ = (pid: number): Record<string, string> => Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e !== '').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
    for (const name of ['tessera-1', 'tessera-2', 'worker'] as const) {
      const env = environ(ready.pids[name]!)
      for (const variable of Object.keys(service(name).environment ?? {})) t.ok(variable in env, `${name} has ${variable}`)
      t.equal(env.WORKER, name === 'worker' ? 'inline' : 'off', `${name}: WORKER`)
      t.notOk('DATABASE_URL' in env || 'ADMIN_API_KEY' in env || 'METRICS_TOKEN' in env, `${name}: the secrets come from files`)
    }
  }

  t.equal((await fetch(`${ready.proxy}${HEALTH_PATHS.proxy}`)).status, 200, 'the proxy is ready')
  const metricsToken = (await readFile(ready.metricsTokenFile, 'utf8')).trim()
  t.equal((await fetch(`${ready.proxy}/metrics`)).status, 401, '/metrics asks for the token')
  const metrics = await fetch(`${ready.proxy}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })
  t.equal(metrics.status, 200, '/metrics answers the token from its file')
  t.match(await metrics.text(), /^tessera_/m)
  const adminKey = (await readFile(ready.adminApiKeyFile, 'utf8')).trim()
  const auth = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }
  const achievement = await fetch(`${ready.proxy}/api/v1/achievements`, {
    method: 'POST', headers: auth, body: JSON.stringify({ name: 'CMA (AAMA)', description: 'Certified Medical Assistant.', criteria: { narrative: 'Passed the CMA (AAMA) Certification Exam.' }, achievementType: 'Certification', validityMonths: 60 })
  })
  t.equal(achievement.status, 201)
  const { id: achievementId } = await achievement.json() as { id: string }
  const issuing = await fetch(`${ready.proxy}/api/v1/credentials`, {
    method: 'POST', headers: auth, body: JSON.stringify({ achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  })
  t.equal(issuing.status, 201, 'issued through the proxy with the staff key from its file')
  const issued = await issuing.json() as { id: string, url: string, credential: { id: string, proof: unknown } }
  t.equal(new URL(issued.url).origin, ready.proxy, 'public URLs are the proxy\'s')

  for (const [name, base] of Object.entries(ready.instances)) {
    const served = await fetch(`${base}${new URL(issued.url).pathname}`, { headers: { accept: 'application/ld+json' } })
    t.equal(served.status, 200, `${name} serves it`)
    const body = await served.json() as { id: string, proof: unknown }
    t.equal(body.id, issued.credential.id, `${name}: the same credential`)
    t.same(body.proof, issued.credential.proof, `${name}: the same proof`)
  }

  const message = await waitFor('the issue email in the mail sink', async () => {
    const list = await (await fetch(`${ready.mail}/api/v1/messages`)).json() as { messages: Array<{ To: Array<{ Address: string }>, Subject: string }> }
    return list.messages.find((m) => m.To.some((to) => to.Address === 'jane@example.org'))
  }, 30_000)
  t.equal(message.Subject, 'Your CMA (AAMA) digital badge from Topology Test Board', 'the worker delivered the issue email (the instances run no jobs)')
  t.match(await (await fetch(ready.mail)).text(), 'Your CMA (AAMA) digital badge', 'the sink\'s web view lists it')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'the script stops cleanly')
  t.match(output.join('\n'), /stopping \(SIGTERM\)[\s\S]*stopped/)
  for (const [name, pid] of Object.entries(ready.pids)) t.notOk(isAlive(pid), `${name} (pid ${pid}) is gone`)
  t.notOk(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')), 'PostgreSQL shut down cleanly (no postmaster.pid left)')
})
