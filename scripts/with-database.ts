/**
 * Runs a command (the test runner) with a migrated template database to clone.
 * Without DATABASE_URL it starts a throwaway embedded PostgreSQL first; with it,
 * it uses that server. Each test file then clones the template into its own
 * database (test/helpers/database.ts), so files run in parallel in isolation.
 * It also makes the run's signing keys once (TESSERA_TEST_KEYS_DIR): each test
 * app starts with a copy (test/helpers/test-keys.ts) instead of generating its own.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { generateKeySet, writeKeyFiles } from '../src/capabilities/keys/key-files.js'
import { connect } from '../src/infrastructure/db/connect.js'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/infrastructure/db/embedded.js'
import { migrate } from '../src/infrastructure/db/migrate.js'

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
  console.error('usage: tsx scripts/with-database.ts <command> [args...]')
  process.exit(2)
}

let embedded: EmbeddedDatabase | undefined
const tempDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-test-run-'))
const keysDir = path.join(tempDir, 'keys')
await writeKeyFiles(keysDir, await generateKeySet('main'))
let serverUrl = process.env.DATABASE_URL
if (serverUrl === undefined || serverUrl === '') {
  embedded = await startEmbeddedPostgres(path.join(tempDir, 'data'), { throwaway: true })
  serverUrl = embedded.url
  console.error(`# embedded PostgreSQL for tests: ${serverUrl.replace(/:[^:@/]*@/, ':***@')}`)
}

const template = `tessera_template_${process.pid}`
const admin = connect(serverUrl, { max: 1 })
let exitCode = 1
try {
  await admin.unsafe(`drop database if exists ${template}`)
  await admin.unsafe(`create database ${template}`)
  const templateUrl = new URL(serverUrl)
  templateUrl.pathname = `/${template}`
  const templateSql = connect(templateUrl.href, { max: 1 })
  await migrate(templateSql)
  await templateSql.end()

  exitCode = await new Promise<number>((resolve) => {
    const child = spawn(command, args, {
      stdio: 'inherit',
      shell: process.platform === 'win32',
      env: { ...process.env, TESSERA_TEST_SERVER_URL: serverUrl, TESSERA_TEST_TEMPLATE_DB: template, TESSERA_TEST_KEYS_DIR: keysDir, TESSERA_TEST_RUN_DIR: tempDir }
    })
    const forward = (signal: NodeJS.Signals): void => { child.kill(signal) }
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('exit', (code, signal) => { resolve(code ?? (signal !== null ? 1 : 0)) })
  })
} finally {
  await admin.unsafe(`drop database if exists ${template} with (force)`).catch(() => {})
  await admin.end()
  await embedded?.stop()
  await rm(tempDir, { recursive: true, force: true })
}
process.exit(exitCode)
