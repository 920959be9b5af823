import type { Config } from '../../kernel/config.js'
import type { Mailer } from '../notifications/email/mailer.js'
import { renderEmail, type PortalEmailData, type PortalEmailKind } from '../notifications/email/templates.js'
import type { PublicUrls } from '../../kernel/public-urls.js'

export interface PortalMailDeps {
  mailer: Mailer
  urls: PublicUrls
  config: Config
}

/** Renders and sends one of the portal's emails, with the issuer's branding and template overrides. */
export async function sendPortalEmail (deps: PortalMailDeps, kind: PortalEmailKind, to: string, messageId: string, data: Partial<PortalEmailData>): Promise<{ delivered: 'smtp' | 'file', where: string }> {
  const { config, urls } = deps
  const rendered = await renderEmail(kind, config.issuer.id, {
    holderName: null,
    issuerName: config.issuer.name,
    accountUrl: `${urls.base}/account`,
    orderUrl: `${urls.base}/order`,
    primaryColor: config.branding.primaryColor,
    accentColor: config.branding.accentColor,
    ...data
  }, config.notifications.emailTemplatesDir)
  return await deps.mailer.send({ to, ...rendered, messageId: `<${messageId}@${new URL(urls.base).hostname}>` })
}
