import { generateKeySet, readKeyFiles, writeKeyFiles, type KeyFile } from '../../src/capabilities/keys/key-files.js'

/**
 * The signing keys every test app starts with, made once per test run: an
 * RSA key costs about half a second of CPU and the suite builds a hundred
 * apps. scripts/with-database.ts writes them to a folder named in
 * TESSERA_TEST_KEYS_DIR; a test file run without it makes them once per
 * process. Each app gets its own copy (rotation writes beside them), so the
 * tests of key generation, rotation and compromise still make their own keys.
 */
let shared: Promise<KeyFile[]> | undefined

function testKeys (): Promise<KeyFile[]> {
  const dir = process.env.TESSERA_TEST_KEYS_DIR
  shared ??= (async () => {
    const keys = dir !== undefined && dir !== '' ? await readKeyFiles(dir) : await generateKeySet('main')
    if (!keys.some((k) => k.algorithm === 'Ed25519') || !keys.some((k) => k.algorithm === 'RS256')) {
      throw new Error(`TESSERA_TEST_KEYS_DIR (${dir ?? ''}) holds no Ed25519 and RS256 key pair for the tests.`)
    }
    return keys
  })()
  return shared
}

/** Writes the run's test keys, as the issuer's, into `keysDir`, as `npm run keys:generate` would have. */
export async function installTestKeys (keysDir: string, issuer: string): Promise<void> {
  await writeKeyFiles(keysDir, (await testKeys()).map((key) => ({ ...key, issuer })))
}
