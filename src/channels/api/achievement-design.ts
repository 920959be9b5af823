import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { fileOf, noBody, problems } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { notFound } from '../../kernel/errors.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { findAchievement } from '../../capabilities/achievements/store.js'
import { MAX_DESIGN_IMAGE_BYTES } from '../../capabilities/design/check-design-image.js'
import { designBody, designResource, SLOTS, type Slot } from '../../capabilities/design/schemas.js'
import { findDesign, findDesignImage, type DesignImage } from '../../capabilities/design/store.js'
import { designResourceOf, removeDesignImage, resetDesign, setDesignImage, updateDesign, type DesignDeps } from '../../capabilities/design/update-design.js'

/**
 * Staff routes for an achievement's certificate and badge design (issue 25),
 * under /api/v1. The settings are one JSON document (PUT replaces it); each
 * image is its own resource, PUT as the raw bytes with their content type
 * (image/png or image/svg+xml): no base64 (a third larger, and a JSON body
 * with five images in it would need a limit five times an image's), each
 * upload checked and audited on its own, and a failed check names its slot.
 */

const slotParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'slot'],
  properties: { ...idParams.properties, slot: { type: 'string', enum: SLOTS, description: 'logo, artwork (the badge image when the achievement has none of its own), seal, signature1, signature2' } }
} as const

/** A body under this is judged by the design checks (which say how large it is); over it, Fastify refuses it before reading on. */
const UPLOAD_BODY_LIMIT = 4 * MAX_DESIGN_IMAGE_BYTES

/**
 * Serves a stored image as what it is: nosniff, and for an SVG (checked at
 * upload, but served from our origin) a CSP that runs nothing and loads
 * nothing, should it be opened as a document.
 */
export async function sendDesignImage (reply: FastifyReply, image: Required<DesignImage>): Promise<FastifyReply> {
  void reply.type(image.mediaType).header('X-Content-Type-Options', 'nosniff').header('ETag', `"${image.sha256}"`).header('Cache-Control', 'no-cache')
  if (image.mediaType === 'image/svg+xml') void reply.header('Content-Security-Policy', 'default-src \'none\'; style-src \'unsafe-inline\'; img-src data:; sandbox')
  return await reply.send(image.bytes)
}

export async function achievementDesignRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const deps = (request: FastifyRequest): DesignDeps => ({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id })
  const imageUrl = (id: string) => (slot: Slot, sha256: string): string => `${app.urls.base}/api/v1/achievements/${id}/design/images/${slot}?v=${sha256}`
  const resource = async (id: string) => designResourceOf(id, await findDesign(app.sql, id), imageUrl(id))

  for (const type of ['image/png', 'image/svg+xml']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: UPLOAD_BODY_LIMIT }, (_request, body, done) => { done(null, body) })
  }

  app.get('/achievements/:id/design', {
    schema: {
      summary: 'An achievement\'s certificate and badge design (all null and no images: the defaults)',
      tags: [TAG.staffAchievements],
      params: idParams,
      response: { 200: { description: 'The design', ...designResource }, ...problems(404) }
    },
    config: { scope: 'achievements:read' }
  }, async (request) => {
    if (await findAchievement(app.sql, request.params.id) === undefined) throw notFound(`Achievement "${request.params.id}"`)
    return await resource(request.params.id)
  })

  app.put('/achievements/:id/design', {
    schema: {
      summary: 'Set the design\'s colours, certificate wording and signatories (the whole document: an absent field is the default); images are kept',
      tags: [TAG.staffAchievements],
      params: idParams,
      body: designBody,
      response: { 200: { description: 'The design as stored', ...designResource }, ...problems(400, 404) }
    },
    config: { scope: 'achievements:write' }
  }, async (request) => {
    await updateDesign(deps(request), request.params.id, request.body)
    return await resource(request.params.id)
  })

  app.delete('/achievements/:id/design', {
    schema: {
      summary: 'Put the achievement back on the default design (settings and images)',
      tags: [TAG.staffAchievements],
      params: idParams,
      response: { 204: noBody('Removed'), ...problems(404) }
    },
    config: { scope: 'achievements:write' }
  }, async (request, reply) => {
    await resetDesign(deps(request), request.params.id)
    return await reply.code(204).send(null)
  })

  app.put('/achievements/:id/design/images/:slot', {
    bodyLimit: UPLOAD_BODY_LIMIT,
    schema: {
      summary: 'Upload one image of the design: the raw PNG or SVG as the body (at most 512 KiB; SVG without script, event handlers or external references)',
      tags: [TAG.staffAchievements],
      params: slotParams,
      response: {
        200: { description: 'The design with the image', ...designResource },
        ...problems(404, [413, 'Over 512 KiB'], [415, 'Not image/png or image/svg+xml'], [422, 'The bytes are not a safe PNG or SVG, or not the type sent (achievement_image_refused)'])
      }
    },
    config: { scope: 'achievements:write' }
  }, async (request) => {
    const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    await setDesignImage(deps(request), request.params.id, request.params.slot, { bytes, contentType })
    return await resource(request.params.id)
  })

  app.delete('/achievements/:id/design/images/:slot', {
    schema: {
      summary: 'Remove one image of the design (that part goes back to the default)',
      tags: [TAG.staffAchievements],
      params: slotParams,
      response: { 204: noBody('Removed'), ...problems(404) }
    },
    config: { scope: 'achievements:write' }
  }, async (request, reply) => {
    await removeDesignImage(deps(request), request.params.id, request.params.slot)
    return await reply.code(204).send(null)
  })

  app.get('/achievements/:id/design/images/:slot', {
    schema: {
      summary: 'One image of the design, as uploaded',
      tags: [TAG.staffAchievements],
      params: slotParams,
      response: { 200: fileOf('The image', ['image/png', 'image/svg+xml']), ...problems(404) }
    },
    config: { scope: 'achievements:read' }
  }, async (request, reply) => {
    const image = await findDesignImage(app.sql, request.params.id, request.params.slot)
    if (image === undefined) throw notFound(`The "${request.params.slot}" image of achievement "${request.params.id}"`)
    return await sendDesignImage(reply, image)
  })
}

/**
 * The design's images for anyone (GET /achievements/:id/design/:slot): they
 * are printed on every certificate anyway, and a page or the console can show
 * them without a key. Registered outside the staff scope (app.ts), since
 * every route in that scope requires a key.
 */
export async function achievementDesignPublicRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/achievements/:id/design/:slot', {
    schema: {
      summary: 'One image of an achievement\'s certificate and badge design',
      tags: [TAG.documents],
      params: slotParams,
      response: { 200: fileOf('The image as uploaded (nosniff; an SVG under a CSP that runs and loads nothing)', ['image/png', 'image/svg+xml']), ...problems(404) }
    }
  }, async (request, reply) => {
    const image = await findDesignImage(app.sql, request.params.id, request.params.slot)
    if (image === undefined) throw notFound(`The "${request.params.slot}" image of achievement "${request.params.id}"`)
    return await sendDesignImage(reply, image)
  })
}
