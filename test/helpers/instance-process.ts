// Another instance of the service in a process of its own, as a second
// replica behind a load balancer (test/caching-two-processes.test.ts): builds
// the app from the environment (the test passes its own app's settings: same
// database, same DATA_DIR and keys), listens on a free port of 127.0.0.1 and
// prints {"port": N}. It closes when its stdin ends or on SIGTERM.
// TEST_CHANGES_CHANNEL makes its change feed listen on another NOTIFY channel:
// the NOTIFY from the other instances never reaches it.
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.js'
import { prepareService } from '../../src/boot.js'
import { connect } from '../../src/infrastructure/db/connect.js'
import { loadConfig } from '../../src/kernel/config.js'

const config = loadConfig(process.env)
const sql = connect(config.databaseUrl ?? '', { max: 10 })
const keyRing = await prepareService(config, sql, { info: () => {}, warn: () => {} })
const channel = process.env.TEST_CHANGES_CHANNEL
const app = await buildApp({ config, sql, keyRing, logger: false, ...(channel !== undefined ? { changesChannel: channel } : {}) })
await app.listen({ host: '127.0.0.1', port: 0 })
console.log(JSON.stringify({ port: (app.server.address() as AddressInfo).port }))

let closing = false
async function close (): Promise<void> {
  if (closing) return
  closing = true
  await app.close()
  await sql.end({ timeout: 5 })
  process.exit(0)
}
process.on('SIGTERM', () => { void close() })
process.stdin.on('end', () => { void close() })
process.stdin.resume()
