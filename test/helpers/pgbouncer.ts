import { spawn, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tap, { type Test, type TestOpts } from 'tap'

/**
 * A real PgBouncer (Debian package "pgbouncer") in transaction mode in front
 * of the test database server, as a child process on a free port of
 * 127.0.0.1, with its ini and auth file in a temporary folder. Any database
 * name is passed through to the server (`* =`). It accepts no startup
 * parameter but the ones it tracks (application_name, ...), as in production:
 * a client sending statement_timeout is refused.
 *
 * Where the program is missing, the tests that need it are skipped with a
 * message naming the package, or fail when REQUIRE_PGBOUNCER=1 (.ci/run).
 */

const set = (value: string | undefined): boolean => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false'
export const PGBOUNCER_REQUIRED = set(process.env.REQUIRE_PGBOUNCER)

const runs = (command: string): boolean => {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The pgbouncer program: PGBOUNCER_PATH when set, else on PATH or where Debian puts it (/usr/sbin, not on a user's PATH). */
export function pgbouncerPath (): string | undefined {
  const configured = process.env.PGBOUNCER_PATH
  const candidates = configured !== undefined && configured !== '' ? [configured] : ['pgbouncer', '/usr/sbin/pgbouncer']
  return candidates.find((c) => (c.includes('/') ? existsSync(c) : true) && runs(c))
}

/** `tap.test` for a test that needs PgBouncer: skipped with a message without it, failed when it is required. */
export function testWithPgBouncer (name: string, options: TestOpts, fn: (t: Test, program: string) => Promise<void>): void {
  const program = pgbouncerPath()
  if (program !== undefined) {
    void tap.test(name, options, async (t) => { await fn(t, program) })
    return
  }
  const why = 'pgbouncer is not installed (Debian package "pgbouncer"; .ci/run installs it, or set PGBOUNCER_PATH)'
  if (PGBOUNCER_REQUIRED) void tap.test(name, options, async (t) => { t.fail(`${why}: required here (REQUIRE_PGBOUNCER=1)`) })
  else void tap.test(name, { ...options, skip: why }, async () => {})
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

/** The user PgBouncer runs as when started by root: postgres (the Debian packages make it), else nobody. */
function unprivilegedUser (): { name: string, uid: number, gid: number } {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim())
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim())
      return { name, uid, gid }
    } catch {}
  }
  throw new Error('PgBouncer will not run as root, and neither "postgres" nor "nobody" exists to run it as')
}

const quoted = (value: string): string => `"${value.replace(/"/g, '""')}"`

export interface PgBouncer {
  /** `serverUrl` with host and port replaced by the bouncer's (same user, password and database). */
  url: (serverUrl: string) => string
  /** Server connections per database and user (what the prepared-statement check opens as many transactions as). */
  poolSize: number
}

/**
 * Starts PgBouncer in front of the server of `serverUrl` (its user and
 * password are the only login), stopped in teardown.
 */
export async function startPgBouncer (t: Test, program: string, serverUrl: string, options: { poolSize?: number } = {}): Promise<PgBouncer> {
  const server = new URL(serverUrl)
  const user = decodeURIComponent(server.username)
  const password = decodeURIComponent(server.password)
  const poolSize = options.poolSize ?? 3
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-pgbouncer-'))
  const port = await freePort()
  await writeFile(path.join(dir, 'users.txt'), `${quoted(user)} ${quoted(password)}\n`)
  await writeFile(path.join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `* = host=${server.hostname.replace(/^\[|\]$/g, '')} port=${server.port === '' ? '5432' : server.port}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    `unix_socket_dir = ${dir}`,
    'pool_mode = transaction',
    // The password is in the auth file for PgBouncer's own login to the server; clients on loopback are trusted.
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'users.txt')}`,
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 500',
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
    ''
  ].join('\n'))
  // PgBouncer refuses to run as root: there it drops to an unprivileged user, who must own its folder.
  const args = [path.join(dir, 'pgbouncer.ini')]
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined
  if (runAs !== undefined) {
    for (const file of ['', 'users.txt', 'pgbouncer.ini']) await chown(path.join(dir, file), runAs.uid, runAs.gid)
    args.unshift('--user', runAs.name)
  }
  const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  t.teardown(async () => {
    child.kill('SIGINT')
    await exited
    await rm(dir, { recursive: true, force: true })
  })
  // Ready once it accepts connections on its port.
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}): ${stderr}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket()
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { resolve(false) })
      socket.connect(port, '127.0.0.1')
    })
    if (open) break
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port}: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url: (serverUrl) => {
      const url = new URL(serverUrl)
      url.hostname = '127.0.0.1'
      url.port = String(port)
      return url.href
    },
    poolSize
  }
}
