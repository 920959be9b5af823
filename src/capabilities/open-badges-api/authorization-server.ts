import type { ObAccess } from './scopes.js'

/** The OAuth 2.0 authorization server of the Open Badges API (oidc-provider), as the rest of the app sees it. */
export interface AuthorizationServer {
  /** The holder and scopes an access token stands for; undefined when it is unknown, expired or revoked. */
  findAccess: (accessToken: string) => Promise<ObAccess | undefined>
}
