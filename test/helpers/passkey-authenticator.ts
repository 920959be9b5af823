import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'

/**
 * A software WebAuthn authenticator for tests over HTTP (app.inject): real
 * P-256 keys and real signatures, shaped as @simplewebauthn/browser hands
 * them to the server, so the server's passkey checks run for real. (The
 * browser test uses Chromium's own virtual authenticator instead.)
 */

const b64url = (bytes: Buffer): string => bytes.toString('base64url')
const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest()

/** Just enough CBOR (RFC 8949) for an attestation object and a COSE key. */
function cbor (value: unknown): Buffer {
  const head = (major: number, length: number): Buffer => {
    if (length < 24) return Buffer.from([(major << 5) | length])
    if (length < 256) return Buffer.from([(major << 5) | 24, length])
    const b = Buffer.alloc(3)
    b[0] = (major << 5) | 25
    b.writeUInt16BE(length, 1)
    return b
  }
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value)
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value])
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)])
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])])
  if (typeof value === 'object' && value !== null) return cbor(new Map(Object.entries(value)))
  throw new Error(`cbor: cannot encode ${typeof value}`)
}

export interface SoftwarePasskey { id: Buffer, privateKey: KeyObject, counter: number, userHandle?: string }

export class SoftwareAuthenticator {
  readonly passkeys: SoftwarePasskey[] = []

  constructor (private readonly origin: string) {}

  private get rpIdHash (): Buffer { return sha256(new URL(this.origin).hostname) }

  private clientData (type: 'webauthn.create' | 'webauthn.get', challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }))
  }

  /** Answers registration options: a new P-256 passkey, attestation "none". */
  register (options: { challenge: string, user: { id: string } }): Record<string, unknown> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = publicKey.export({ format: 'jwk' })
    const cose = new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]])
    const id = randomBytes(16)
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(id.length)
    // Flags: user present, user verified, attested credential data.
    const authData = Buffer.concat([this.rpIdHash, Buffer.from([0x45]), Buffer.alloc(4), Buffer.alloc(16), idLength, id, cbor(cose)])
    this.passkeys.push({ id, privateKey, counter: 0, userHandle: options.user.id })
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: { clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge)), attestationObject: b64url(cbor({ fmt: 'none', attStmt: new Map(), authData })), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform'
    }
  }

  /** Answers authentication options with a passkey (the first, unless told), its counter one higher (or as overridden). */
  authenticate (options: { challenge: string }, passkey: SoftwarePasskey | undefined = this.passkeys[0], overrides: { counter?: number, origin?: string } = {}): Record<string, unknown> {
    if (passkey === undefined) throw new Error('no passkey registered')
    // An overridden counter (a cloned authenticator's) does not move the real one.
    if (overrides.counter === undefined) passkey.counter += 1
    const counter = Buffer.alloc(4)
    counter.writeUInt32BE(overrides.counter ?? passkey.counter)
    const authenticatorData = Buffer.concat([this.rpIdHash, Buffer.from([0x05]), counter])
    const clientDataJSON = overrides.origin === undefined ? this.clientData('webauthn.get', options.challenge) : Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: overrides.origin, crossOrigin: false }))
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), passkey.privateKey)
    return {
      id: b64url(passkey.id),
      rawId: b64url(passkey.id),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authenticatorData), signature: b64url(signature), ...(passkey.userHandle !== undefined ? { userHandle: passkey.userHandle } : {}) },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform'
    }
  }
}
