/**
 * The bench's PostgreSQL: an embedded throwaway cluster unless DATABASE_URL is set (then a
 * database of its own on that server, dropped at the end), and which processes are
 * PostgreSQL's, so scenarios can report its CPU per request.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Sql } from 'postgres'
import { connect } from '../src/infrastructure/db/connect.js'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/infrastructure/db/embedded.js'
import { processesNamed, processTree } from './proc.js'

export interface BenchDatabase {
  /** Where PostgreSQL runs and whose processes its CPU figure sums. */
  readonly description: string
  /** Creates a fresh database and returns its URL. */
  create: (name: string) => Promise<string>
  drop: (name: string) => Promise<void>
  /** PostgreSQL's processes now (postmaster and backends). */
  pids: () => number[]
  close: () => Promise<void>
}

export async function openBenchDatabase (dir: string): Promise<BenchDatabase> {
  const external = process.env.DATABASE_URL
  let embedded: EmbeddedDatabase | undefined
  let pids: () => number[]
  let description: string
  if (external === undefined) {
    const dataDir = path.join(dir, 'pg')
    embedded = await startEmbeddedPostgres(dataDir, { throwaway: true })
    const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    pids = () => processTree(postmaster)
    description = `embedded PostgreSQL (fsync off; CPU: its postmaster ${postmaster} and children)`
  } else {
    const host = new URL(external).hostname
    const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)
    // An external server's postmaster is not ours to find by data directory: on this machine
    // every `postgres` process counts (other databases' load too); elsewhere, none can be read.
    pids = local ? () => processesNamed('postgres') : () => []
    description = local
      ? `PostgreSQL at ${host} (DATABASE_URL; CPU: every \`postgres\` process on this machine, other users' included)`
      : `PostgreSQL at ${host} (DATABASE_URL; not on this machine: its CPU is not measured)`
  }
  const serverUrl = external ?? embedded?.url ?? ''
  const admin: Sql = connect(serverUrl, { max: 1 })
  return {
    description,
    pids,
    create: async (name) => {
      await admin.unsafe(`create database ${name}`)
      const url = new URL(serverUrl)
      url.pathname = `/${name}`
      return url.href
    },
    drop: async (name) => { await admin.unsafe(`drop database if exists ${name} with (force)`) },
    close: async () => {
      await admin.end({ timeout: 5 })
      await embedded?.stop()
    }
  }
}
