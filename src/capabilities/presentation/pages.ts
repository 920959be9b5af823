import { Eta } from 'eta'
import { fileURLToPath } from 'node:url'
import type { FastifyReply } from 'fastify'
import type { Config } from '../../kernel/config.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { longDate } from '../../infrastructure/web/dates.js'
import type { HolderView } from './holder-view.js'
import { shareLinks } from './share-links.js'
import { checksInWords, type Banner } from './status-banner.js'
import type { VerificationResult } from '../verification/result.js'

/** Templates live in templates/ (not src/), so the compiled dist/ finds them too; compiled once, cached. */
const eta = new Eta({ views: fileURLToPath(new URL('../../../templates/', import.meta.url)), cache: true, autoEscape: true, autoTrim: false })

/**
 * Sends a page. The security headers (a CSP with no script at all: the pages
 * work without JavaScript) come from helmet, for every response (http/hardening.ts).
 */
export function sendPage (reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply.code(status)
    .header('Cache-Control', 'no-cache')
    .type('text/html; charset=utf-8')
    .send(html)
}

function brand (config: Config): Record<string, unknown> {
  return { issuerName: config.issuer.name, logoUrl: config.branding.logoUrl }
}

/** The banner and checks, as the result partial shows them (credential page and /verify). */
export function resultView (banner: Banner, result: VerificationResult): Record<string, unknown> {
  return { banner, checks: checksInWords(result), checkedAt: `${longDate(result.checkedAt) ?? ''} at ${result.checkedAt.slice(11, 16)} UTC` }
}

export function renderCredentialPage (view: HolderView, urls: PublicUrls, config: Config, options: { ownPrivatePage?: boolean } = {}): string {
  const id = view.credential.id
  const url = urls.credential(id)
  const { fields } = view
  const current = view.version.version === view.credential.currentVersion
  // In-page links are paths, so the page works at whatever host served it; og: and share links stay absolute.
  const base = new URL(current ? url : urls.credentialVersion(id, view.version.version)).pathname
  const description = `${fields.holderName ?? 'The holder'} holds ${fields.achievement.name}, issued by ${fields.issuerName}. ${view.banner.text}`
  return eta.render('./credential', {
    title: `${fields.achievement.name}: ${fields.holderName ?? ''}`,
    description,
    og: { title: `${fields.achievement.name}: ${fields.holderName ?? ''}`, description, url, image: `${url}/preview.png`, imageAlt: `${fields.achievement.name} awarded to ${fields.holderName ?? 'the holder'}: ${view.banner.label}` },
    brand: brand(config),
    ...resultView(view.banner, view.result),
    noun: view.noun,
    ownPrivatePage: options.ownPrivatePage === true,
    achievement: fields.achievement,
    holderName: fields.holderName ?? 'Not stated',
    issuerName: fields.issuerName,
    awardDate: longDate(fields.issued),
    validFrom: longDate(fields.validFrom),
    validUntil: longDate(fields.validUntil),
    credentialId: id,
    credentialUrl: url,
    imageUrl: `${new URL(url).pathname}/badge.png`,
    imageAlt: view.achievement.image?.caption ?? `${fields.achievement.name} badge`,
    ...(current ? {} : { olderVersion: { number: view.version.version, currentUrl: new URL(url).pathname } }),
    share: current
      ? shareLinks({
        credentialUrl: url,
        credentialId: id,
        achievementName: fields.achievement.name,
        issuerName: fields.issuerName,
        ...(config.branding.linkedInOrganizationId !== undefined ? { linkedInOrganizationId: config.branding.linkedInOrganizationId } : {}),
        ...(fields.issued !== undefined ? { issued: fields.issued } : {}),
        ...(fields.validUntil !== undefined ? { expires: fields.validUntil } : {})
      })
      : undefined,
    // What a person prints first; the signed formats, which a person rarely needs by name, after.
    downloads: [
      { href: `${base}/certificate.pdf`, text: 'Certificate (PDF)', about: 'To print and frame: US Letter, landscape.' },
      { href: `${base}/wallet-card.pdf`, text: 'Wallet card (PDF)', about: 'A bank-card-sized card to print at 100% and cut out.' }
    ],
    machineDownloads: [
      { href: `${base}/credential.jsonld`, text: 'Credential (JSON-LD)', about: 'The signed Open Badges 3.0 credential, for digital wallets and learner records.' },
      { href: `${base}/credential.jwt`, text: 'Credential (VC-JWT)', about: 'The same credential as a signed JSON Web Token, for systems that ask for a JWT.' },
      { href: `${base}/badge.png`, text: 'Badge image (PNG)', about: 'The badge image with the credential baked in, for badge backpacks and websites.' },
      { href: `${base}/badge.svg`, text: 'Badge image (SVG)', about: 'The same, as a scalable image.' }
    ]
  })
}

export function renderVerifyPage (config: Config, data: { input?: string, error?: string, shown?: Record<string, unknown> }): string {
  return eta.render('./verify', { title: 'Verify a credential', description: `Check an Open Badges credential: ${config.issuer.name}.`, brand: brand(config), ...data })
}

export function renderUnsubscribePage (config: Config, data: { state: 'confirm' | 'done' | 'invalid', achievementName?: string, action?: string }): string {
  const heading = data.state === 'done' ? 'Reminders stopped' : data.state === 'confirm' ? 'Stop reminders' : 'Link not valid'
  return eta.render('./unsubscribe', { title: heading, heading, brand: brand(config), ...data })
}

/** Any other page of the site (the holders' portal, the order form): a template under templates/ with the brand. */
export function renderSitePage (template: string, config: Config, data: { title: string } & Record<string, unknown>): string {
  return eta.render(`./${template}`, { brand: brand(config), ...data })
}

/** The page at a credential URL whose holder made it private: nothing about the holder or the credential. */
export function renderPrivatePage (config: Config): string {
  return renderSitePage('account-message', config, {
    title: 'This credential is private',
    heading: 'This credential is private',
    text: 'Its holder has chosen not to show this page. If the holder gave you the credential itself (a file, a badge image or a JWT), you can still check it.',
    next: { href: '/verify', text: 'Verify a credential' }
  })
}
