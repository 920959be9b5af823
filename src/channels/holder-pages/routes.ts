import { readFileSync } from 'node:fs'
import { perMinute } from '../../infrastructure/http/hardening.js'
import multipart from '@fastify/multipart'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { Sql } from 'postgres'
import { AppError, notFound } from '../../kernel/errors.js'
import { signedInEmail } from '../../capabilities/holders/sessions.js'
import type { Clock } from '../../kernel/time.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { versionParams } from '../../capabilities/credentials/schemas.js'
import { verifyCredential } from '../../capabilities/verification/verify-credential.js'
import { bakePng, BakingError } from '../../capabilities/bake/png.js'
import { bakeSvg } from '../../capabilities/bake/svg.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { isHiddenFrom, verifyView } from '../../capabilities/presentation/verify-view.js'
import { FetchRefusedError } from '../../capabilities/verification/fetch-credential-url.js'
import { readSubmittedImage, readSubmittedText } from '../../capabilities/verification/read-submitted.js'
import { BadgeImages } from './badge-images.js'
import { loadHolderView, printStamp, type HolderDeps, type HolderView } from '../../capabilities/presentation/holder-view.js'
import { svgToPng } from '../../infrastructure/web/images.js'
import { designedPreviewSvg, previewDesignKey } from '../../capabilities/design/preview-image.js'
import { renderCredentialPage, renderPrivatePage, renderVerifyPage, sendPage } from '../../capabilities/presentation/pages.js'
import { certificatePdf, walletCardPdf } from './pdfs.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { bodyOf, fileOf, htmlPage, problems, signedDocument } from '../../infrastructure/http/common-schemas.js'

const SITE_CSS = readFileSync(new URL('../../../assets/site.css', import.meta.url), 'utf8')
const UPLOAD_LIMIT = 2 * 1024 * 1024

type ArtefactDeps = HolderDeps & { badges: BadgeImages, previews: Previews }

/** Everything a holder downloads, by file name under the credential (or version) URL. */
const ARTEFACTS: Record<string, (view: HolderView, deps: ArtefactDeps, reply: FastifyReply) => Promise<FastifyReply>> = {
  'credential.jsonld': async (view, _deps, reply) => await reply.type('application/ld+json; charset=utf-8').send(view.version.document),
  'credential.jwt': async (view, _deps, reply) => await reply.type('application/vc+jwt').send(view.version.jwt),
  'badge.png': async (view, deps, reply) => await reply.type('image/png').send(bakePng(deps.badges.png(view, reply.log), view.version.document)),
  'badge.svg': async (view, deps, reply) => await reply.type('image/svg+xml; charset=utf-8').send(bakeSvg(deps.badges.svg(view, reply.log), view.version.document)),
  'preview.png': async (view, deps, reply) => await reply.type('image/png').send(previewPng(view, deps.previews)),
  'certificate.pdf': async (view, deps, reply) => await reply.type('application/pdf').send(await certificatePdf(printable(view, deps), view.design)),
  'wallet-card.pdf': async (view, deps, reply) => await reply.type('application/pdf').send(await walletCardPdf(printable(view, deps), view.design))
}

/** Each file by its content type; the signed ones are the stored texts, byte for byte. */
const artefactResponse = {
  description: 'The file (Content-Disposition: attachment, except preview.png)',
  content: {
    'application/ld+json': { schema: signedDocument('credential.jsonld: the signed credential, byte for byte as signed') },
    ...bodyOf('', ['application/vc+jwt'], { type: 'string', description: 'credential.jwt: the VC-JWT, as signed' }).content,
    ...fileOf('', ['image/png']).content,
    ...bodyOf('', ['image/svg+xml'], { type: 'string', description: 'badge.svg: the badge with the signed credential baked in' }).content,
    ...fileOf('', ['application/pdf']).content
  }
}

const stylesheet = (summary: string): { hide: true, summary: string, tags: string[], response: { 200: ReturnType<typeof bodyOf> } } =>
  ({ hide: true, summary, tags: [TAG.assets], response: { 200: bodyOf('The stylesheet (cached for an hour)', ['text/css']) } })

/**
 * What a holder's privacy switch hides: the page and the renderings made for
 * people (preview image, certificate, wallet card). The signed credential in
 * any packaging (JSON-LD, JWT, baked images) is still served: whoever was
 * given it must be able to check it.
 */
const PAGE_RENDERINGS = new Set(['preview.png', 'certificate.pdf', 'wallet-card.pdf'])

/** Hidden by its holder, and not being looked at by that holder (signed in to the portal). */
async function isPrivateTo (request: FastifyRequest, view: HolderView, deps: { sql: Sql, clock: Clock }): Promise<boolean> {
  if (view.credential.hiddenByHolderAt === null) return false
  return isHiddenFrom(view.credential, await signedInEmail(request, deps.sql, deps.clock))
}

// Rasterising costs ~15 ms; what is drawn changes only with the version and
// the status sentence, so the PNG is kept per (credential, version, status),
// by the app that serves it, within a byte budget (a preview is about 50 KB).
type Previews = LRUCache<string, Buffer>
const PREVIEW_BYTES = 16 * 1024 * 1024

function previewPng (view: HolderView, previews: Previews): Buffer {
  const input = {
    achievementName: view.fields.achievement.name,
    holderName: view.fields.holderName ?? '',
    issuerName: view.fields.issuerName,
    statusLabel: view.banner.label,
    statusText: view.banner.text,
    ...(view.banner.advice !== undefined ? { advice: view.banner.advice } : {}),
    tone: view.banner.tone,
    palette: view.palette
  }
  const key = `${view.credential.id}/${view.version.version}/${JSON.stringify(input)}/${previewDesignKey(view.design)}`
  let png = previews.get(key)
  if (png === undefined) {
    png = svgToPng(designedPreviewSvg(input, view.design))
    previews.set(key, png)
  }
  return png
}

function printable (view: HolderView, deps: HolderDeps): Parameters<typeof certificatePdf>[0] {
  const stamp = printStamp(view.banner)
  const awardDate = longDate(view.fields.issued)
  const validUntil = longDate(view.fields.validUntil)
  return {
    holderName: view.fields.holderName ?? '',
    achievementName: view.fields.achievement.name,
    issuerName: view.fields.issuerName,
    ...(awardDate !== undefined ? { awardDate } : {}),
    ...(validUntil !== undefined ? { validUntil } : {}),
    credentialUrl: deps.urls.credential(view.credential.id),
    credentialId: view.credential.id,
    statusLine: `Status on ${longDate(deps.now) ?? ''}: ${view.banner.label}`,
    ...(stamp !== undefined ? { stamp } : {}),
    ...(view.banner.advice !== undefined ? { advice: view.banner.advice } : {}),
    palette: view.palette
  }
}

/**
 * Renders the page at a credential (or version) URL for a browser; the
 * credential routes call it when content negotiation picks text/html.
 */
export function credentialPageResponder (app: FastifyInstance): (reply: FastifyReply, id: string, version?: number) => Promise<FastifyReply> {
  return async (reply, id, version) => {
    const view = await loadHolderView({ sql: app.sql, urls: app.urls, config: app.config, verifier: app.verifier, now: app.clock() }, id, version)
    if (view === undefined) throw notFound(version === undefined ? `Credential "${id}"` : `Version ${version} of credential "${id}"`)
    if (await isPrivateTo(reply.request, view, app)) return sendPage(reply.header('Vary', 'Accept').header('X-Robots-Tag', 'noindex'), renderPrivatePage(app.config))
    return sendPage(reply.header('Vary', 'Accept'), renderCredentialPage(view, app.urls, app.config, { ownPrivatePage: view.credential.hiddenByHolderAt !== null }))
  }
}

/**
 * The holder's side: the credential page (served at the credential URL by
 * negotiation, see credentials/routes.ts), its images, PDFs and downloads,
 * and the public /verify page.
 */
export async function holderPageRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const deps = (): HolderDeps => ({ sql: app.sql, urls: app.urls, config: app.config, verifier: app.verifier, now: app.clock() })
  const badges = new BadgeImages()
  const previews: Previews = new LRUCache({ maxSize: PREVIEW_BYTES, sizeCalculation: (png, key) => png.length + key.length })
  app.addHook('onClose', async () => { previews.clear(); badges.clear() })
  app.representations.credentialPage = credentialPageResponder(app)
  await app.register(multipart, { limits: { fileSize: UPLOAD_LIMIT, files: 1, fields: 2, fieldSize: 256 * 1024 } })

  app.get('/assets/site.css', { schema: stylesheet('The pages\' stylesheet') }, async (_request, reply) => await reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(SITE_CSS))
  app.get('/assets/theme.css', { schema: stylesheet('The branding colours (PRIMARY_COLOR, ACCENT_COLOR)') }, async (_request, reply) => {
    const { primaryColor, accentColor } = app.config.branding
    return await reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(`:root { --primary: ${primaryColor}; --accent: ${accentColor}; }\n`)
  })

  const artefactParams = { type: 'object', additionalProperties: false, required: ['id', 'file'], properties: { ...idParams.properties, file: { type: 'string', enum: Object.keys(ARTEFACTS) } } } as const
  const versionArtefactParams = { ...artefactParams, required: ['id', 'version', 'file'], properties: { ...versionParams.properties, file: artefactParams.properties.file } } as const
  const serveArtefact = async (request: FastifyRequest, reply: FastifyReply, params: { id: string, version?: number, file: string }): Promise<FastifyReply> => {
    const d = { ...deps(), badges, previews }
    const view = await loadHolderView(d, params.id, params.version, { design: params.file !== 'credential.jsonld' && params.file !== 'credential.jwt' })
    const make = ARTEFACTS[params.file]
    if (view === undefined || make === undefined) throw notFound(`Credential "${params.id}"`)
    if (PAGE_RENDERINGS.has(params.file) && await isPrivateTo(request, view, app)) throw new AppError('credential_private', 'The holder has made this credential\'s page private; the signed credential (credential.jsonld, credential.jwt) still verifies.')
    void reply.header('Cache-Control', 'no-cache').header('X-Content-Type-Options', 'nosniff')
    if (params.file !== 'preview.png') void reply.header('Content-Disposition', `attachment; filename="${params.id}${params.version === undefined ? '' : `-v${params.version}`}-${params.file}"`)
    return await make(view, d, reply)
  }
  app.get('/credentials/:id/:file', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'A file of the current version: credential.jsonld, credential.jwt, badge.png, badge.svg, preview.png, certificate.pdf, wallet-card.pdf',
      tags: [TAG.credentials],
      params: artefactParams,
      response: { 200: artefactResponse, ...problems([403, 'The holder made the page private: its renderings (preview, certificate, wallet card) are not served'], 404) }
    }
  }, async (request, reply) => await serveArtefact(request, reply, request.params))
  app.get('/credentials/:id/versions/:version/:file', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'A file of one version',
      tags: [TAG.credentials],
      params: versionArtefactParams,
      response: { 200: artefactResponse, ...problems([403, 'The holder made the page private: its renderings (preview, certificate, wallet card) are not served'], 404) }
    }
  }, async (request, reply) => await serveArtefact(request, reply, request.params))

  app.get('/verify', {
    schema: { summary: 'The public verify page (HTML)', tags: [TAG.verification], response: { 200: htmlPage('The form: paste a link, JSON or JWT, or choose a badge image') } }
  }, async (_request, reply) => sendPage(reply, renderVerifyPage(app.config, {})))

  app.post('/verify', {
    config: perMinute(app.config.rateLimits.verifyPerMinute),
    schema: {
      summary: 'The public verify page: paste or upload (multipart form)',
      tags: [TAG.verification],
      response: {
        200: htmlPage('The result: the credential is valid'),
        400: htmlPage('The form again, saying what could not be read (nothing pasted, an unreadable image)'),
        422: htmlPage('The result: the credential is not valid, or the link was refused')
      }
    }
  }, async (request, reply) => {
    let pasted = ''
    let upload: Buffer | undefined
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          const bytes = await part.toBuffer()
          if (bytes.length > 0) upload = bytes
        } else if (part.fieldname === 'credential' && typeof part.value === 'string') {
          pasted = part.value
        }
      }
    } catch (error) {
      return sendPage(reply, renderVerifyPage(app.config, { error: `The form could not be read: ${(error as Error).message}` }), 400)
    }
    const d = deps()
    let input: unknown
    let fetchedFrom: string | undefined
    try {
      if (upload !== undefined) input = readSubmittedImage(upload)
      else if (pasted.trim() !== '') ({ credential: input, fetchedFrom } = await readSubmittedText(pasted, { sql: d.sql, publicBaseUrl: d.urls.base, allowLoopback: d.config.outbound.allowLoopback }))
      else return sendPage(reply, renderVerifyPage(app.config, { error: 'Paste a credential link, JSON or JWT, or choose a badge image.' }), 400)
    } catch (error) {
      // A file that cannot be read is a malformed request (400); a link refused or text that is no credential, a 422.
      if (error instanceof BakingError) return sendPage(reply, renderVerifyPage(app.config, { input: pasted, error: error.message }), 400)
      if (error instanceof FetchRefusedError) return sendPage(reply, renderVerifyPage(app.config, { input: pasted, error: error.message }), 422)
      throw error
    }
    const result = await verifyCredential(input, { ...d.verifier, now: d.now }, fetchedFrom === undefined ? {} : { fetchedFrom })
    app.metrics.verification(result.status, 'page')
    request.verified = { ...(result.credential.id !== undefined ? { credentialId: result.credential.id } : {}), fromImage: upload !== undefined }
    const shown = await verifyView(input, result, { sql: d.sql, urls: d.urls, now: d.now, viewerEmail: async () => await signedInEmail(request, app.sql, app.clock) })
    // A private credential's pasted text carries the holder's name: not echoed back.
    const echo = upload === undefined && shown.kind !== 'private' ? pasted : ''
    return sendPage(reply, renderVerifyPage(app.config, { input: echo, shown }), result.verified ? 200 : 422)
  })
}
