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
