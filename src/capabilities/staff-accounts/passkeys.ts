import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse, type AuthenticationResponseJSON, type AuthenticatorTransportFuture, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON } from '@simplewebauthn/server'
import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { AppError } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { staffActor, tokenHash } from './accounts.js'
import { findEnrolment, findPasskey, findStaffUser, insertChallenge, insertPasskey, passkeysOf, useChallenge, useEnrolment, usePasskey, type StaffUserRow } from './store.js'

/**
 * Passkeys (WebAuthn) through @simplewebauthn/server: the relying party is the
 * service's public origin (PUBLIC_BASE_URL), so a passkey works on every
 * instance behind it and nowhere else. Challenges are kept in PostgreSQL and
 * used once; the answer may reach any instance.
 */
export interface PasskeyDeps { sql: Sql, now: Date, baseUrl: string, rpName: string, requestId?: string }

const CHALLENGE_MINUTES = 5

const relyingParty = (baseUrl: string): { rpID: string, origin: string } => {
  const url = new URL(baseUrl)
  return { rpID: url.hostname, origin: url.origin }
}

/** The one refusal a sign-in attempt gets, whatever failed (it must not tell which passkeys exist). */
const refused = (): AppError => new AppError('passkey_refused', 'The passkey was not accepted. Try again, or ask an administrator for a new enrolment link.')

/** Options for registering a passkey with an enrolment link (not used up until the passkey is stored). */
export async function registrationOptions (deps: PasskeyDeps, enrolmentToken: string): Promise<{ challengeId: string, options: PublicKeyCredentialCreationOptionsJSON }> {
  const staffUserId = await findEnrolment(deps.sql, tokenHash(enrolmentToken), deps.now)
  const user = staffUserId === undefined ? undefined : await findStaffUser(deps.sql, staffUserId)
  if (user === undefined || user.disabledAt !== null) throw new AppError('forbidden', 'This enrolment link is not valid: it was used, it expired, or it never existed. Ask an administrator for a new one.')
  const existing = await passkeysOf(deps.sql, user.id)
  const options = await generateRegistrationOptions({
    rpName: deps.rpName,
    rpID: relyingParty(deps.baseUrl).rpID,
    userName: user.email,
    userDisplayName: user.name,
    userID: new TextEncoder().encode(user.id),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports as AuthenticatorTransportFuture[] })),
    // Discoverable, so that sign-in needs no name typed first; verified (PIN or biometrics) when the device can.
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' }
  })
  const challengeId = newId()
  await insertChallenge(deps.sql, { id: challengeId, challenge: options.challenge, purpose: 'registration', staffUserId: user.id, expiresAt: new Date(deps.now.getTime() + CHALLENGE_MINUTES * 60_000) })
  return { challengeId, options }
}

/** Stores the passkey an enrolment registered, using the link up; the user is then signed in. */
export async function registerPasskey (deps: PasskeyDeps, input: { enrolmentToken: string, challengeId: string, response: RegistrationResponseJSON }): Promise<StaffUserRow> {
  const { rpID, origin } = relyingParty(deps.baseUrl)
  return await deps.sql.begin(async (tx) => {
    const challenge = await useChallenge(tx, input.challengeId, 'registration', deps.now)
    const staffUserId = await useEnrolment(tx, tokenHash(input.enrolmentToken), deps.now)
    if (challenge === undefined || staffUserId === undefined || challenge.staffUserId !== staffUserId) throw new AppError('forbidden', 'This enrolment expired or was already used. Ask an administrator for a new link.')
    const verified = await verifyRegistrationResponse({ response: input.response, expectedChallenge: challenge.challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false })
      .catch(() => undefined)
    if (verified?.verified !== true) throw refused()
    const { credential } = verified.registrationInfo
    await insertPasskey(tx, { id: credential.id, staffUserId, publicKey: Buffer.from(credential.publicKey), counter: credential.counter, transports: credential.transports ?? [], createdAt: deps.now })
    await recordAuditEvent(tx, { actor: staffActor(staffUserId), action: 'staff_user.passkey_registered', subjectType: 'staff_user', subjectId: staffUserId, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), details: { passkey: credential.id } })
    return (await findStaffUser(tx, staffUserId))!
  }) as StaffUserRow
}

/** Options for signing in with any passkey of this service (discoverable: no name asked first). */
export async function authenticationOptions (deps: PasskeyDeps): Promise<{ challengeId: string, options: PublicKeyCredentialRequestOptionsJSON }> {
  const options = await generateAuthenticationOptions({ rpID: relyingParty(deps.baseUrl).rpID, userVerification: 'preferred', allowCredentials: [] })
  const challengeId = newId()
  await insertChallenge(deps.sql, { id: challengeId, challenge: options.challenge, purpose: 'authentication', staffUserId: null, expiresAt: new Date(deps.now.getTime() + CHALLENGE_MINUTES * 60_000) })
  return { challengeId, options }
}

/**
 * Checks a sign-in answer: the challenge (once), the passkey's signature, its
 * counter (a counter that goes backwards means a cloned authenticator). Every
 * attempt is audited, failures too (actor "anonymous").
 */
export async function signInWithPasskey (deps: PasskeyDeps, input: { challengeId: string, response: AuthenticationResponseJSON }): Promise<StaffUserRow> {
  const { rpID, origin } = relyingParty(deps.baseUrl)
  const failed = async (reason: string, staffUserId?: string): Promise<never> => {
    await recordAuditEvent(deps.sql, { actor: staffUserId === undefined ? 'anonymous' : staffActor(staffUserId), action: 'staff_user.sign_in_failed', subjectType: 'staff_user', subjectId: staffUserId ?? 'unknown', ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), details: { method: 'passkey', reason } })
    throw refused()
  }
  const challenge = await useChallenge(deps.sql, input.challengeId, 'authentication', deps.now)
  if (challenge === undefined) return await failed('challenge unknown, used or expired')
  const passkey = await findPasskey(deps.sql, input.response.id)
  if (passkey === undefined) return await failed('unknown passkey')
  const user = await findStaffUser(deps.sql, passkey.staffUserId)
  if (user === undefined || user.disabledAt !== null) return await failed('user disabled', passkey.staffUserId)
  const verified = await verifyAuthenticationResponse({
    response: input.response,
    expectedChallenge: challenge.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential: { id: passkey.id, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.counter, transports: passkey.transports as AuthenticatorTransportFuture[] },
    requireUserVerification: false
  }).catch((error: unknown) => ({ verified: false as const, error }))
  if (!verified.verified) return await failed('signature or counter refused', user.id)
  await usePasskey(deps.sql, passkey.id, verified.authenticationInfo.newCounter, deps.now)
  return user
}
