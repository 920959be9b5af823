import { randomBytes } from 'node:crypto'
import type { Sql } from 'postgres'
import { connect } from '../../src/infrastructure/db/connect.js'

/**
 * A fresh, migrated database for one test file, cloned from the template that
 * scripts/with-database.ts prepared, and dropped when `teardown` runs.
 */
export async function freshDatabase (): Promise<{ url: string, sql: Sql, drop: () => Promise<void> }> {
  const serverUrl = process.env.TESSERA_TEST_SERVER_URL
  const template = process.env.TESSERA_TEST_TEMPLATE_DB
  if (serverUrl === undefined || template === undefined) {
    throw new Error('Run tests with `npm test` (it prepares the test database server).')
  }
  const name = `tessera_test_${randomBytes(6).toString('hex')}`
  const admin = connect(serverUrl, { max: 1 })
  // Cloning fails while anything else is connected to the template; retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${name} template ${template}`)
      break
    } catch (error) {
      if (attempt >= 20 || (error as { code?: string }).code !== '55006') throw error
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200))
    }
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const sql = connect(url.href, { max: 20 })
  return {
    url: url.href,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 })
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    }
  }
}
