import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * Without ADMIN_API_KEY the staff API would be unusable after `npm start`, so a
 * random development key is kept in DATA_DIR (mode 0600) and its path logged.
 */
export async function developmentAdminKey (dataDir: string): Promise<{ key: string, file: string, created: boolean }> {
  const file = path.join(dataDir, 'dev-admin-api-key')
  try {
    return { key: (await readFile(file, 'utf8')).trim(), file, created: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(dataDir, { recursive: true })
  const key = randomBytes(32).toString('base64url')
  await writeFile(file, key + '\n', { mode: 0o600, flag: 'wx' })
  return { key, file, created: true }
}
