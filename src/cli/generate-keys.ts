/**
 * `npm run keys:generate [-- --issuer <id>] [-- --out <dir>]` (compiled:
 * `node dist/cli/generate-keys.js`, as the image runs it): writes a new key
 * set (Ed25519 for Data Integrity, RS256 for VC-JWT) into KEYS_DIR (or --out).
 * Existing keys are kept: the newest active key signs, older ones keep verifying.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { generateKeySet, writeKeyFiles } from '../capabilities/keys/key-files.js'

const { values } = parseArgs({ options: { issuer: { type: 'string' }, out: { type: 'string' } } })
const issuer = values.issuer ?? process.env.ISSUER_ID ?? 'main'
const dir = path.resolve(values.out ?? process.env.KEYS_DIR ?? path.join(process.env.DATA_DIR ?? './.data', 'keys'))
const written = await writeKeyFiles(dir, await generateKeySet(issuer))
console.log(`New key set for issuer "${issuer}":\n  ${written.join('\n  ')}`)
console.log('Keep these files secret (mode 0600). Point KEYS_DIR at this folder.')
