import { readFileSync } from 'node:fs'
import { OB_SCOPE_WORDS } from './scopes.js'

/**
 * The Service Description Document of GET /ims/ob/v3p0/discovery (OB 3.0
 * §6.1.1): the spec's own OpenAPI file (schemas/openapi, copied unchanged)
 * profiled with this deployment's URLs, so a platform learns from one
 * unauthenticated call where to register, authorise and fetch tokens.
 */

export interface DiscoveryUrls {
  /** PUBLIC_BASE_URL, without a trailing slash. */
  publicBaseUrl: string
  /** The page of the terms a platform's users agree to. */
  termsOfService: string
  /** The privacy policy the 1EdTech profile asks for (info.x-imssf-privacyPolicyUrl). */
  privacyPolicy: string
}

type Json = Record<string, unknown>

const SPEC_DOCUMENT = readFileSync(new URL('../../../schemas/openapi/ob_v3p0_openapi.json', import.meta.url), 'utf8')

/** Where the resources live: what servers[].url names and the OAuth endpoints hang off. */
export const OPEN_BADGES_API_PATH = '/ims/ob/v3p0'

/**
 * The profiled document. Built once per app (pure: the URLs come in): a
 * fresh parse of the spec's file each time, so no caller can change another's.
 */
export function serviceDescription (urls: DiscoveryUrls): Json {
  const document = JSON.parse(SPEC_DOCUMENT) as Json & { info: Json, components: Json & { securitySchemes: Json } }
  const base = urls.publicBaseUrl
  document.servers = [{ url: `${base}${OPEN_BADGES_API_PATH}`, description: 'This service\'s Open Badges 3.0 API' }]
  document.info = {
    ...document.info,
    termsOfService: urls.termsOfService,
    'x-imssf-privacyPolicyUrl': urls.privacyPolicy
  }
  document.components.securitySchemes = {
    OAuth2ACG: {
      type: 'oauth2',
      description: 'OAuth 2.0 Authorization Code grant with PKCE (S256); clients register dynamically (RFC 7591) at x-imssf-registrationUrl.',
      'x-imssf-registrationUrl': `${base}/oauth/register`,
      flows: {
        authorizationCode: {
          authorizationUrl: `${base}/oauth/authorize`,
          tokenUrl: `${base}/oauth/token`,
          refreshUrl: `${base}/oauth/token`,
          // The spec's scope URIs, each described in the words the consent page shows the holder.
          scopes: { ...OB_SCOPE_WORDS }
        }
      }
    }
  }
  return document
}
