import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * The signing key files of a backup, sealed with a passphrase: scrypt
 * (N=2^15, r=8, p=1, a fresh 16-byte salt) derives an AES-256-GCM key; the
 * salt, the 12-byte nonce and the tag travel in the sealed file, so the
 * passphrase alone opens it. The additional data binds the format name, so
 * another file sealed with the same passphrase is not taken for one. The
 * same derivation gives an HMAC key for the manifest: its sha256s then catch
 * a part altered on purpose (with the manifest edited to match), not only
 * one damaged by accident.
 */
export interface SealedKeys {
  format: 'tessera-sealed-keys-1'
  kdf: { name: 'scrypt', N: number, r: number, p: number, salt: string }
  cipher: 'aes-256-gcm'
  nonce: string
  tag: string
  ciphertext: string
}

/** One key file: its name in KEYS_DIR and its bytes. */
export interface KeyFileCopy { name: string, content: string }

export class BackupPassphraseError extends Error {
  constructor (message: string) { super(message); this.name = 'BackupPassphraseError' }
}

const SCRYPT = { N: 2 ** 15, r: 8, p: 1 }
const AAD = Buffer.from('tessera-sealed-keys-1')

/** 64 bytes from the passphrase: the first 32 are the AES key, the last 32 the manifest's HMAC key. */
async function deriveKey (passphrase: string, salt: Buffer, params: { N: number, r: number, p: number }): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 64, { ...params, maxmem: 256 * params.N * params.r }, (error, key) => { error === null ? resolve(key) : reject(error) })
  })
}

/** The regular files at the top of KEYS_DIR (the key files; a missing folder holds none). */
export async function readKeyFolder (dir: string): Promise<KeyFileCopy[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const files: KeyFileCopy[] = []
  for (const name of names) {
    const file = path.join(dir, name)
    if (name.startsWith('.') || !(await stat(file)).isFile()) continue
    files.push({ name, content: (await readFile(file)).toString('base64') })
  }
  return files
}

/** Seals the key files with the passphrase; `macKey` authenticates the manifest (manifestMac). */
export async function sealKeys (files: KeyFileCopy[], passphrase: string): Promise<{ sealed: SealedKeys, macKey: Buffer }> {
  const salt = randomBytes(16)
  const nonce = randomBytes(12)
  const derived = await deriveKey(passphrase, salt, SCRYPT)
  const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, 32), nonce)
  cipher.setAAD(AAD)
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(files)), cipher.final()])
  const sealed: SealedKeys = {
    format: 'tessera-sealed-keys-1',
    kdf: { name: 'scrypt', ...SCRYPT, salt: salt.toString('base64') },
    cipher: 'aes-256-gcm',
    nonce: nonce.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64')
  }
  return { sealed, macKey: derived.subarray(32) }
}

/** HMAC-SHA256 of a manifest's text: only the passphrase's holder can make a manifest that restore accepts. */
export function manifestMac (macKey: Buffer, text: string): string {
  return createHmac('sha256', macKey).update(text).digest('hex')
}

/** Opens sealed key files; a wrong passphrase (or altered bytes) fails the GCM tag and says so. */
export async function openKeys (sealed: SealedKeys, passphrase: string): Promise<{ files: KeyFileCopy[], macKey: Buffer }> {
  if (sealed.format !== 'tessera-sealed-keys-1' || sealed.kdf?.name !== 'scrypt' || sealed.cipher !== 'aes-256-gcm') {
    throw new BackupPassphraseError('The backup\'s sealed keys are in a format this version does not read.')
  }
  const derived = await deriveKey(passphrase, Buffer.from(sealed.kdf.salt, 'base64'), sealed.kdf)
  const decipher = createDecipheriv('aes-256-gcm', derived.subarray(0, 32), Buffer.from(sealed.nonce, 'base64'))
  decipher.setAAD(AAD)
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'))
  try {
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()])
    return { files: JSON.parse(plain.toString('utf8')) as KeyFileCopy[], macKey: derived.subarray(32) }
  } catch {
    throw new BackupPassphraseError('BACKUP_PASSPHRASE does not open the backup\'s signing keys: it is not the passphrase the backup was made with.')
  }
}

/** Writes key files into KEYS_DIR as `keys:generate` does: folder 0700, files 0600. */
export async function writeKeyFolder (dir: string, files: KeyFileCopy[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  for (const file of files) {
    if (file.name.includes('/') || file.name.includes('\\') || file.name.startsWith('.')) throw new Error(`The backup names a key file "${file.name}" outside the key folder.`)
    const target = path.join(dir, file.name)
    await writeFile(target, Buffer.from(file.content, 'base64'), { mode: 0o600 })
    await chmod(target, 0o600)
  }
}
