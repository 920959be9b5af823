import multipart, { type MultipartFile } from '@fastify/multipart'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { ErrorObject } from 'ajv'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findAchievement, type AchievementRow } from '../../capabilities/achievements/store.js'
import { MAX_DESIGN_IMAGE_BYTES } from '../../capabilities/design/check-design-image.js'
import { previewCertificate } from '../../capabilities/design/preview-certificate.js'
import { designedPreviewSvg } from '../../capabilities/design/preview-image.js'
import { designBody, PLACEHOLDERS, SLOTS, type DesignBody, type Placeholder, type Slot } from '../../capabilities/design/schemas.js'
import { findDesign } from '../../capabilities/design/store.js'
import { designSettings, removeDesignImage, resetDesign, setDesignImage, updateDesign, type DesignDeps } from '../../capabilities/design/update-design.js'
import { findIssuer } from '../../capabilities/issuers/store.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { fileOf, htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { validatorCompiler } from '../../infrastructure/http/validator-compiler.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { svgToPng } from '../../infrastructure/web/images.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { may, sendConsoleMessage, sendConsolePage } from './page.js'

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: ID_PATTERN } } } as const
const slotParams = { type: 'object', additionalProperties: false, required: ['id', 'slot'], properties: { ...idParams.properties, slot: { type: 'string', enum: SLOTS } } } as const
const SHEETS = ['certificate.pdf', 'wallet-card.pdf'] as const
const sheetParams = { type: 'object', additionalProperties: false, required: ['id', 'sheet'], properties: { ...idParams.properties, sheet: { type: 'string', enum: SHEETS, description: 'The certificate or the wallet card' } } } as const
const confirmed = { type: 'string', enum: ['yes'] } as const
/** A page asked for without a console session: to the sign-in page, which comes back here. */
const signedOut = { 303: noBody('Not signed in: to the sign-in page', { Location: { type: 'string', description: '/console/sign-in?next=…' } }) } as const
/** What any post of these pages may answer as a page before its handler runs. */
const postRefusals = {
  401: htmlPage('Not signed in: the console session ended'),
  403: htmlPage('The role does not allow it, or the form expired'),
  404: htmlPage('No such achievement'),
  429: htmlPage('Too many posts from this address (Retry-After)')
} as const
const confirmOnly = { type: 'object', additionalProperties: false, properties: { _csrf: text(200), confirmed } } as const

/** The settings form's fields (text, as posted); empty is the default. */
const SETTINGS_FIELDS = {
  primaryColor: text(7),
  accentColor: text(7),
  titleLine: text(120),
  statementBefore: text(300),
  statementAfter: text(300),
  signatory1Name: text(100),
  signatory1Title: text(100),
  signatory2Name: text(100),
  signatory2Title: text(100)
} as const
type SettingsForm = { [K in keyof typeof SETTINGS_FIELDS]: string }
const settingsBody = { type: 'object', additionalProperties: false, properties: { _csrf: text(200), ...SETTINGS_FIELDS, confirmed } } as const

const SLOT_NAMES: Record<Slot, string> = { logo: 'Logo', artwork: 'Badge artwork', seal: 'Seal', signature1: 'First signature', signature2: 'Second signature' }
const SLOT_USES: Record<Slot, string> = {
  logo: 'Top of the certificate and wallet card, and the social preview image.',
  artwork: 'The badge image, when the achievement has no image of its own.',
  seal: 'On the certificate, beside the signatures.',
  signature1: 'Above the first signatory\'s name.',
  signature2: 'Above the second signatory\'s name.'
}
const PLACEHOLDER_MEANINGS: Record<Placeholder, string> = {
  holderName: 'the holder\'s name',
  achievementName: 'the achievement\'s name',
  issuerName: 'the issuer\'s name',
  awardDate: 'the day the badge was awarded',
  validUntil: 'the day it expires (“—” when it does not)'
}
const LABELS: Record<string, string> = {
  '/primaryColor': 'Primary colour',
  '/accentColor': 'Accent colour',
  '/titleLine': 'Title line',
  '/statementBefore': 'Line before the name',
  '/statementAfter': 'Line after the name',
  '/signatories/0/name': 'First signatory\'s name',
  '/signatories/0/title': 'First signatory\'s title',
  '/signatories/1/name': 'Second signatory\'s name',
  '/signatories/1/title': 'Second signatory\'s title'
}
const DONE = {
  saved: 'The design is saved: certificates, wallet cards and badge images drawn from now on use it.',
  'image-set': 'The image is stored: certificates and badge images drawn from now on show it.',
  'image-removed': 'The image is removed: that part is drawn as by default.',
  reset: 'The achievement is back on the default design.'
} as const

/** A file part as the multipart hook leaves it in the body. */
interface Upload { bytes: Buffer, filename: string, mimetype: string, truncated: boolean }
const isUpload = (value: unknown): value is Upload => typeof value === 'object' && value !== null && Buffer.isBuffer((value as Upload).bytes)

const validateDesign = validatorCompiler({ schema: designBody, method: 'PUT', url: '/console/achievements/design', httpPart: 'body' }) as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

/** The settings the form makes, judged by the staff API's schema and the capability's wording check. */
function designOf (form: SettingsForm): DesignBody {
  const line = (value: string): string | undefined => value.trim() === '' ? undefined : value.trim()
  const signatories = ([[form.signatory1Name, form.signatory1Title, 'First'], [form.signatory2Name, form.signatory2Title, 'Second']] as const).flatMap(([name, title, which]) => {
    if (name.trim() === '' && title.trim() !== '') throw new AppError('validation_failed', `"${which} signatory's name" is needed with a title.`)
    return name.trim() === '' ? [] : [{ name: name.trim(), title: title.trim() }]
  })
  const body: DesignBody = {
    ...(line(form.primaryColor) === undefined ? {} : { primaryColor: line(form.primaryColor) }),
    ...(line(form.accentColor) === undefined ? {} : { accentColor: line(form.accentColor) }),
    ...(line(form.titleLine) === undefined ? {} : { titleLine: line(form.titleLine) }),
    ...(line(form.statementBefore) === undefined ? {} : { statementBefore: line(form.statementBefore) }),
    ...(line(form.statementAfter) === undefined ? {} : { statementAfter: line(form.statementAfter) }),
    signatories
  }
  if (!validateDesign(body)) {
    const error = validateDesign.errors?.[0]
    const label = LABELS[error?.instancePath ?? ''] ?? error?.instancePath.slice(1) ?? 'The form'
    throw new AppError('validation_failed', error?.keyword === 'pattern' ? `"${label}" must be a colour as #rrggbb, or empty for the default.` : `"${label}" ${error?.message ?? 'is not valid'}.`)
  }
  designSettings(body) // the placeholders' check, in the capability's words
  return body
}

const formOfBody = (body: Partial<SettingsForm>): SettingsForm =>
  Object.fromEntries(Object.keys(SETTINGS_FIELDS).map((k) => [k, body[k as keyof SettingsForm] ?? ''])) as SettingsForm

/**
 * An achievement's certificate and badge design in the console: colours,
 * wording (with its placeholders explained), signatories, the images one slot
 * at a time (multipart uploads, checked by the capability), previews of the
 * certificate and wallet card (stored or unsaved settings, stamped SAMPLE)
 * and of the social preview image. Saving goes through the same functions as
 * the staff design API, audited with the staff user.
 */
export async function achievementDesignConsoleRoutes (fastify: FastifyInstance): Promise<void> {
  // Parsed before preValidation's CSRF check (instance hooks run before route hooks); one file in memory, the design API's cap.
  await fastify.register(multipart, {
    attachFieldsToBody: 'keyValues',
    throwFileSizeLimit: false,
    limits: { fileSize: MAX_DESIGN_IMAGE_BYTES, files: 1, fields: 5, parts: 6, fieldSize: 4096 },
    onFile: async (part: MultipartFile) => {
      const bytes = await part.toBuffer()
      Object.assign(part, { value: { bytes, filename: part.filename, mimetype: part.mimetype, truncated: part.file.truncated } satisfies Upload })
    }
  })
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { preValidation: app.csrfProtection }
  const limited = perMinute(app.config.rateLimits.formsPerMinute)
  const deps = (request: FastifyRequest): DesignDeps => ({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id })
  const base = (id: string): string => `/console/achievements/${id}/design`
  const achievementOr404 = async (id: string): Promise<AchievementRow> => {
    const achievement = await findAchievement(app.sql, id)
    if (achievement === undefined) throw notFound(`Achievement ${id}`)
    return achievement
  }

  // A multipart post (an upload) is a form too: its refusals are pages, as the console's handler makes them for the others.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (request.headers['content-type']?.startsWith('multipart/form-data') !== true) throw error
    if (error.code?.startsWith('FST_CSRF_') === true) return sendConsoleMessage(request, reply, 403, { heading: 'This form has expired', text: 'Forms work only from the page that showed them. Go back, reload the page and send it again.', alert: true })
    if (error instanceof AppError && error.statusCode < 500) return sendConsoleMessage(request, reply, error.statusCode, { heading: error.statusCode === 403 ? 'Not allowed' : 'That did not work', text: error.message, alert: true, next: { href: '/console', text: 'Back to the dashboard' } })
    if (/^FST_(PARTS|FILES|FIELDS)_LIMIT|^FST_PROTO_VIOLATION|^FST_INVALID_MULTIPART/.test(error.code ?? '')) return sendConsoleMessage(request, reply, 400, { heading: 'The form could not be read', text: `${error.message}. Go back and send the form again.`, alert: true })
    throw error
  })

  const designPage = async (request: FastifyRequest, reply: FastifyReply, achievement: AchievementRow, extra: { done?: string, error?: string, form?: SettingsForm } = {}, status = 200): Promise<FastifyReply> => {
    const design = await findDesign(app.sql, achievement.id)
    const stored: SettingsForm = {
      primaryColor: design?.primaryColor ?? '',
      accentColor: design?.accentColor ?? '',
      titleLine: design?.titleLine ?? '',
      statementBefore: design?.statementBefore ?? '',
      statementAfter: design?.statementAfter ?? '',
      signatory1Name: design?.signatories[0]?.name ?? '',
      signatory1Title: design?.signatories[0]?.title ?? '',
      signatory2Name: design?.signatories[1]?.name ?? '',
      signatory2Title: design?.signatories[1]?.title ?? ''
    }
    return sendConsolePage(request, reply, 'achievement-design', {
      title: `Design: ${achievement.name}`,
      achievement: { id: achievement.id, name: achievement.name },
      base: base(achievement.id),
      done: extra.done,
      error: extra.error,
      form: extra.form ?? stored,
      defaults: { primaryColor: app.config.branding.primaryColor, accentColor: app.config.branding.accentColor },
      placeholders: PLACEHOLDERS.map((name) => ({ name: `{${name}}`, meaning: PLACEHOLDER_MEANINGS[name] })),
      slots: SLOTS.map((slot) => {
        const image = design?.images[slot]
        return {
          slot,
          name: SLOT_NAMES[slot],
          use: SLOT_USES[slot],
          image: image === undefined ? undefined : { src: `/achievements/${achievement.id}/design/${slot}?v=${image.sha256}`, type: image.mediaType === 'image/png' ? 'PNG' : 'SVG', kib: Math.ceil(image.size / 1024), updated: longDate(image.updatedAt) }
        }
      }),
      updated: design === undefined ? undefined : { at: longDate(design.updatedAt), by: design.updatedBy },
      maxKib: MAX_DESIGN_IMAGE_BYTES / 1024,
      canWrite: may(request, 'achievements:write')
    }, status)
  }

  /** The page again with a refusal in the capability's words, or the error for the console's handler. */
  const refused = async (request: FastifyRequest, reply: FastifyReply, achievement: AchievementRow, error: unknown, form?: SettingsForm): Promise<FastifyReply> => {
    if (!(error instanceof AppError) || error.statusCode >= 500) throw error
    return await designPage(request, reply, achievement, { error: error.message, ...(form !== undefined ? { form } : {}) }, error.statusCode)
  }

  const sendPdf = async (reply: FastifyReply, pdf: Buffer, sheet: string): Promise<FastifyReply> =>
    await reply.type('application/pdf').header('Content-Disposition', `inline; filename="sample-${sheet}"`).header('Cache-Control', 'no-store').send(pdf)
  const previewDeps = (): Parameters<typeof previewCertificate>[0] => ({ sql: app.sql, config: app.config, urls: app.urls, now: app.clock() })

  app.get('/console/achievements/:id/design', {
    config: { scope: 'achievements:read' },
    schema: {
      summary: 'An achievement\'s certificate and badge design: colours, wording, signatories, images and previews',
      tags: [TAG.console],
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { done: { type: 'string', enum: Object.keys(DONE) } } },
      response: { 200: htmlPage('The design page'), ...signedOut, 404: htmlPage('No such achievement') }
    }
  }, async (request, reply) => {
    const achievement = await achievementOr404(request.params.id)
    const done = request.query.done as keyof typeof DONE | undefined
    return await designPage(request, reply, achievement, done === undefined ? {} : { done: DONE[done] })
  })

  app.post('/console/achievements/:id/design', {
    ...posts,
    config: { scope: 'achievements:write', ...limited },
    schema: {
      summary: 'Save the design\'s colours, wording and signatories (asks to confirm first); images are kept',
      tags: [TAG.console],
      params: idParams,
      body: settingsBody,
      response: {
        200: htmlPage('What will change, and a button to confirm'),
        303: noBody('Saved', { Location: { type: 'string', description: 'The design page' } }),
        400: htmlPage('The page again, with the refusal'),
        ...postRefusals
      }
    }
  }, async (request, reply) => {
    const achievement = await achievementOr404(request.params.id)
    const form = formOfBody(request.body)
    let body: DesignBody
    try {
      body = designOf(form)
    } catch (error) {
      return await refused(request, reply, achievement, error, form)
    }
    if (request.body.confirmed !== 'yes') {
      const settings = designSettings(body)
      const shown = (value: string | null, otherwise: string): string => value === null ? otherwise : `“${value}”`
      return sendConsolePage(request, reply, 'achievement-confirm', {
        title: 'Save the design?',
        heading: `Save the design of “${achievement.name}”?`,
        subject: { href: base(achievement.id), name: achievement.name },
        consequences: [
          `Colours: primary ${settings.primaryColor ?? `the default (${app.config.branding.primaryColor})`}, accent ${settings.accentColor ?? `the default (${app.config.branding.accentColor})`}.`,
          `Title line: ${shown(settings.titleLine, 'none (the default)')}. Before the name: ${shown(settings.statementBefore, 'the default, “This certifies that”')}. After the name: ${shown(settings.statementAfter, 'the default, “has earned”')}.`,
          settings.signatories.length === 0 ? 'No signatories.' : `Signatories: ${settings.signatories.map((s) => s.title === '' ? s.name : `${s.name}, ${s.title}`).join('; ')}.`,
          'Every certificate, wallet card, badge image and preview image of this achievement drawn from now on uses it, for existing badges too; the signed credentials do not change.'
        ],
        url: base(achievement.id),
        button: 'Save the design',
        cancel: base(achievement.id),
        fields: { ...form, confirmed: 'yes' }
      })
    }
    try {
      await updateDesign(deps(request), achievement.id, body)
    } catch (error) {
      return await refused(request, reply, achievement, error, form)
    }
    return await reply.redirect(`${base(achievement.id)}?done=saved`, 303)
  })

  app.get('/console/achievements/:id/design/preview/:sheet', {
    config: { scope: 'achievements:read' },
    schema: {
      summary: 'A sample certificate or wallet card with the saved design (stamped SAMPLE; signs and stores nothing)',
      tags: [TAG.console],
      params: sheetParams,
      response: { 200: fileOf('The PDF, inline', ['application/pdf']), ...signedOut, 404: htmlPage('No such achievement') }
    }
  }, async (request, reply) => {
    const { id, sheet } = request.params
    await achievementOr404(id)
    return await sendPdf(reply, await previewCertificate(previewDeps(), id, { card: sheet === 'wallet-card.pdf' }), sheet)
  })

  app.post('/console/achievements/:id/design/preview/:sheet', {
    ...posts,
    config: { scope: 'achievements:write', ...limited },
    schema: {
      summary: 'A sample certificate or wallet card with the settings typed, before saving them (stored images kept; saves nothing)',
      tags: [TAG.console],
      params: sheetParams,
      body: settingsBody,
      response: { 200: fileOf('The PDF, inline', ['application/pdf']), 400: htmlPage('The settings are refused'), ...postRefusals }
    }
  }, async (request, reply) => {
    const { id, sheet } = request.params
    await achievementOr404(id)
    const design = designOf(formOfBody(request.body))
    return await sendPdf(reply, await previewCertificate(previewDeps(), id, { design, card: sheet === 'wallet-card.pdf' }), sheet)
  })

  app.get('/console/achievements/:id/design/preview-image.png', {
    config: { scope: 'achievements:read' },
    schema: {
      summary: 'The social preview image (og:image) of a sample badge with the saved design',
      tags: [TAG.console],
      params: idParams,
      response: { 200: fileOf('The PNG', ['image/png']), ...signedOut, 404: htmlPage('No such achievement') }
    }
  }, async (request, reply) => {
    const achievement = await achievementOr404(request.params.id)
    const design = await findDesign(app.sql, achievement.id, { withBytes: true })
    const issuerName = (await findIssuer(app.sql, achievement.issuerId))?.name ?? app.config.issuer.name
    const svg = designedPreviewSvg({
      achievementName: achievement.name,
      holderName: 'Alex Sample',
      issuerName,
      statusLabel: 'Sample',
      statusText: 'Sample: not a credential',
      tone: 'pending',
      palette: { primary: design?.primaryColor ?? app.config.branding.primaryColor, accent: design?.accentColor ?? app.config.branding.accentColor }
    }, design)
    return await reply.type('image/png').header('Cache-Control', 'no-store').send(svgToPng(svg))
  })

  app.post('/console/achievements/:id/design/images/:slot', {
    ...posts,
    config: { scope: 'achievements:write', ...limited },
    schema: {
      summary: `Upload one image of the design (multipart: image = a PNG or SVG of at most ${MAX_DESIGN_IMAGE_BYTES / 1024} KiB, confirmed = yes); checked as the design API checks it`,
      tags: [TAG.console],
      params: slotParams,
      response: {
        303: noBody('Stored', { Location: { type: 'string', description: 'The design page' } }),
        400: htmlPage('The form could not be read, or the box to confirm is not ticked'),
        ...postRefusals,
        413: htmlPage('The page again: the image is over the size cap'),
        422: htmlPage('The page again, with the refusal in the image check\'s words')
      }
    }
  }, async (request, reply) => {
    const { id, slot } = request.params
    const achievement = await achievementOr404(id)
    const body = (request.body ?? {}) as Record<string, unknown>
    const file = isUpload(body.image) && (body.image.bytes.length > 0 || body.image.filename !== '') ? body.image : undefined
    try {
      if (file === undefined) throw new AppError('validation_failed', `Choose a PNG or SVG file for the ${SLOT_NAMES[slot].toLowerCase()}.`)
      if (body.confirmed !== 'yes') throw new AppError('validation_failed', 'Tick the box to confirm: every certificate and badge image drawn from now on shows the new image.')
      if (file.truncated) throw new AppError('payload_too_large', `The image is over ${MAX_DESIGN_IMAGE_BYTES} bytes; at most ${MAX_DESIGN_IMAGE_BYTES} (512 KiB) is accepted.`)
      await setDesignImage(deps(request), id, slot, { bytes: file.bytes, contentType: file.mimetype.split(';')[0]!.trim().toLowerCase() })
    } catch (error) {
      return await refused(request, reply, achievement, error)
    }
    return await reply.redirect(`${base(id)}?done=image-set`, 303)
  })

  app.post('/console/achievements/:id/design/images/:slot/remove', {
    ...posts,
    config: { scope: 'achievements:write', ...limited },
    schema: {
      summary: 'Remove one image of the design: that part goes back to the default (asks to confirm first)',
      tags: [TAG.console],
      params: slotParams,
      body: confirmOnly,
      response: { 200: htmlPage('What will happen, and a button to confirm'), 303: noBody('Removed', { Location: { type: 'string', description: 'The design page' } }), ...postRefusals, 404: htmlPage('No such achievement, or no such image') }
    }
  }, async (request, reply) => {
    const { id, slot } = request.params
    const achievement = await achievementOr404(id)
    if (request.body.confirmed !== 'yes') {
      return sendConsolePage(request, reply, 'achievement-confirm', {
        title: 'Remove the image?',
        heading: `Remove the ${SLOT_NAMES[slot].toLowerCase()} of “${achievement.name}”?`,
        subject: { href: base(id), name: achievement.name },
        consequences: [`Certificates, wallet cards and badge images drawn from now on have no ${SLOT_NAMES[slot].toLowerCase()} of this design (${SLOT_USES[slot].toLowerCase().replace(/\.$/, '')}): that part is drawn as by default.`],
        url: `${base(id)}/images/${slot}/remove`,
        button: 'Remove it',
        danger: true,
        cancel: base(id),
        fields: { confirmed: 'yes' }
      })
    }
    await removeDesignImage(deps(request), id, slot)
    return await reply.redirect(`${base(id)}?done=image-removed`, 303)
  })

  app.post('/console/achievements/:id/design/reset', {
    ...posts,
    config: { scope: 'achievements:write', ...limited },
    schema: {
      summary: 'Put the achievement back on the default design, settings and images (asks to confirm first)',
      tags: [TAG.console],
      params: idParams,
      body: confirmOnly,
      response: { 200: htmlPage('What will happen, and a button to confirm'), 303: noBody('Reset', { Location: { type: 'string', description: 'The design page' } }), ...postRefusals, 404: htmlPage('No such achievement, or it has no design') }
    }
  }, async (request, reply) => {
    const achievement = await achievementOr404(request.params.id)
    if (request.body.confirmed !== 'yes') {
      return sendConsolePage(request, reply, 'achievement-confirm', {
        title: 'Back to the default design?',
        heading: `Put “${achievement.name}” back on the default design?`,
        subject: { href: base(achievement.id), name: achievement.name },
        consequences: ['The colours, wording, signatories and every image of this design are deleted.', 'Certificates, wallet cards and badge images drawn from now on look as they do by default.'],
        url: `${base(achievement.id)}/reset`,
        button: 'Reset the design',
        danger: true,
        cancel: base(achievement.id),
        fields: { confirmed: 'yes' }
      })
    }
    await resetDesign(deps(request), achievement.id)
    return await reply.redirect(`${base(achievement.id)}?done=reset`, 303)
  })
}
