import { randomUUID } from 'node:crypto'
import type { ApplyDeps } from '../../src/capabilities/continuing-education/applications.js'
import type { ProviderAdminDeps } from '../../src/capabilities/continuing-education/approved-providers.js'
import type { RecordDeps } from '../../src/capabilities/continuing-education/record-activity.js'
import type { ReissueDeps } from '../../src/capabilities/credentials/recertify/reissue-credential.js'
import { BASE_URL, type TestApp } from './build-app.js'

/**
 * The continuing-education services' dependencies, taken from a built app
 * (its pool, outbox, keys, verifier) at the app's clock's now, as its routes
 * would pass them: the holder records and applies, staff decide.
 */
export function ceDeps (app: TestApp, now: () => Date): {
  record: (actor?: string) => RecordDeps
  apply: (actor?: string) => ApplyDeps
  reissue: (actor?: string) => ReissueDeps
  providers: (actor?: string) => ProviderAdminDeps
} {
  const a = app.app
  return {
    record: (actor = 'holder') => ({ sql: app.sql, now: now(), actor, verifier: a.verifier, publicBaseUrl: BASE_URL, allowLoopback: true }),
    apply: (actor = 'holder') => ({ sql: app.sql, now: now(), actor, outbox: a.outbox, urls: a.urls }),
    reissue: (actor = 'staff-test') => ({ sql: app.sql, keyRing: a.keyRing, urls: a.urls, now: now(), actor, statusLists: a.statusListPolicy, outbox: a.outbox, dataIntegrity: a.dataIntegrity, changes: a.changes }),
    providers: (actor = 'staff-test') => ({ sql: app.sql, now: now(), actor })
  }
}

/** A declared activity (no certificate: staff record it, so none is required). */
export function declared (completedOn: string, points: number, category: 'approved' | 'other', providerId?: string): { kind: 'declared', activity: { title: string, provider: string, completedOn: string, points: number, category: 'approved' | 'other', providerId?: string } } {
  return { kind: 'declared', activity: { title: `Course of ${completedOn} (${points} points)`, provider: 'Some CE provider', completedOn, points, category, ...(providerId === undefined ? {} : { providerId }) } }
}

type Json = Record<string, any>

/**
 * An Open Badges 3.0 credential from a continuing-education provider, unsigned
 * (sign it with did-key-signing.ts): `creditsEarned` on its subject, the
 * completion in `awardedDate`. `subject` replaces the credits (a test of a
 * subject without them); `extra` is spread over the top level last.
 */
export function ceBadge (issuerId: string, o: { issuerName?: string, title?: string, credits?: number, subject?: Json, validFrom?: string, awardedDate?: string, extra?: Json } = {}): Json {
  const title = o.title ?? 'Infection Control Update 2026'
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuerId, type: ['Profile'], name: o.issuerName ?? 'Midwest Allied Health CE Institute' },
    validFrom: o.validFrom ?? '2026-03-01T00:00:00Z',
    awardedDate: o.awardedDate ?? '2026-03-14T15:30:00Z',
    name: title,
    credentialSubject: {
      type: ['AchievementSubject'],
      ...(o.subject ?? { creditsEarned: o.credits ?? 2.5 }),
      achievement: { id: `urn:uuid:${randomUUID()}`, type: ['Achievement'], name: title, description: `${title}: continuing education.`, criteria: { narrative: 'Attended the course and passed its quiz.' } }
    },
    ...o.extra
  }
}
