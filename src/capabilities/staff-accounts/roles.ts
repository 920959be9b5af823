import { SCOPES, type Scope } from '../staff-access/bearer-auth.js'

/**
 * A staff user's role: a named set of the same scopes API keys carry, so the
 * console and the API answer one question ("may this principal do X?") the
 * same way.
 * - admin: everything, including API keys, webhooks, the registry and staff users;
 * - registrar: the credential lifecycle and the queues (issue, correct,
 *   recertify, revoke, orders, continuing education, applications), achievements;
 * - viewer: reads only (search, a credential's page, the audit trail).
 */
export const ROLES = ['admin', 'registrar', 'viewer'] as const
export type Role = typeof ROLES[number]

const READS: readonly Scope[] = ['achievements:read', 'credentials:read', 'audit:read']

export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  registrar: [...READS, 'achievements:write', 'credentials:issue', 'credentials:reissue', 'credentials:revoke', 'orders:admin', 'continuing-education:write', 'recertification:review'],
  viewer: READS
}

export const ROLE_NAMES: Record<Role, string> = { admin: 'Administrator', registrar: 'Registrar', viewer: 'Viewer (read only)' }

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value)
