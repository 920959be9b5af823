import { randomBytes, generateKeyPairSync } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import type { JWK } from 'jose'

/**
 * One signing key as stored on disk, one file per key (`<id>.json`, mode 0600).
 * Private halves live only here; the database holds the public halves.
 */
export type KeyFile = Ed25519KeyFile | Rs256KeyFile

interface KeyFileCommon {
  id: string
  issuer: string
  status: 'active' | 'retired'
  createdAt: string
}
export interface Ed25519KeyFile extends KeyFileCommon {
  algorithm: 'Ed25519'
  publicKeyMultibase: string
  secretKeyMultibase: string
}
export interface Rs256KeyFile extends KeyFileCommon {
  algorithm: 'RS256'
  privateJwk: JWK
}

export class KeyFileError extends Error {
  constructor (message: string) { super(message); this.name = 'KeyFileError' }
}

const KEY_ID = /^[a-z0-9][a-z0-9-]{2,80}$/

function newKeyId (algorithm: string, now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  return `${algorithm.toLowerCase()}-${day}-${randomBytes(4).toString('hex')}`
}

/** Generates a fresh Ed25519 (Data Integrity) and RS256 (VC-JWT) key pair for an issuer. */
export async function generateKeySet (issuer: string, now: Date = new Date()): Promise<[Ed25519KeyFile, Rs256KeyFile]> {
  const ed = await Ed25519Multikey.generate()
  const exported = await ed.export({ publicKey: true, secretKey: true })
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 })
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK
  const createdAt = now.toISOString()
  return [
    {
      id: newKeyId('Ed25519', now),
      issuer,
      algorithm: 'Ed25519',
      status: 'active',
      createdAt,
      publicKeyMultibase: exported.publicKeyMultibase!,
      secretKeyMultibase: exported.secretKeyMultibase!
    },
    { id: newKeyId('RS256', now), issuer, algorithm: 'RS256', status: 'active', createdAt, privateJwk }
  ]
}

export async function writeKeyFiles (dir: string, keys: KeyFile[]): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const written: string[] = []
  for (const key of keys) {
    const file = path.join(dir, `${key.id}.json`)
    // 'wx' never overwrites an existing key.
    await writeFile(file, JSON.stringify(key, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
    written.push(file)
  }
  return written
}

function parseKeyFile (file: string, value: unknown): KeyFile {
  const fail = (why: string): never => { throw new KeyFileError(`Key file ${file}: ${why}`) }
  if (typeof value !== 'object' || value === null) return fail('not a JSON object.')
  const key = value as Record<string, unknown>
  if (typeof key.id !== 'string' || !KEY_ID.test(key.id)) fail('"id" must be lower-case letters, digits and dashes.')
  if (typeof key.issuer !== 'string') fail('"issuer" must name an issuer id.')
  if (key.status !== 'active' && key.status !== 'retired') fail('"status" must be "active" or "retired".')
  if (typeof key.createdAt !== 'string' || Number.isNaN(Date.parse(key.createdAt))) fail('"createdAt" must be an ISO date.')
  if (key.algorithm === 'Ed25519') {
    if (typeof key.publicKeyMultibase !== 'string' || !key.publicKeyMultibase.startsWith('z6Mk')) fail('"publicKeyMultibase" must be an Ed25519 Multikey (z6Mk...).')
    if (typeof key.secretKeyMultibase !== 'string') fail('"secretKeyMultibase" is required.')
  } else if (key.algorithm === 'RS256') {
    const jwk = key.privateJwk as Record<string, unknown> | undefined
    if (typeof jwk !== 'object' || jwk === null || jwk.kty !== 'RSA' || typeof jwk.d !== 'string') fail('"privateJwk" must be a private RSA JWK.')
  } else {
    fail('"algorithm" must be "Ed25519" or "RS256".')
  }
  return key as unknown as KeyFile
}

/** Reads every `*.json` key file in `dir` (a missing folder holds no keys). Example files are refused. */
export async function readKeyFiles (dir: string): Promise<KeyFile[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const keys: KeyFile[] = []
  for (const name of names) {
    const file = path.join(dir, name)
    let value: unknown
    try {
      value = JSON.parse(await readFile(file, 'utf8'))
    } catch {
      throw new KeyFileError(`Key file ${file} is not valid JSON.`)
    }
    if ((value as { example?: unknown }).example === true) {
      throw new KeyFileError(`Key file ${file} is an EXAMPLE key from keys.example/; generate real keys with \`npm run keys:generate\`.`)
    }
    keys.push(parseKeyFile(file, value))
  }
  return keys
}
