import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { notFound } from '../../kernel/errors.js'
import { findIssuer } from '../../capabilities/issuers/store.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { achievementResource, publicAchievementDocument } from '../../capabilities/achievements/achievement-document.js'
import { achievementIdParams, createAchievementBody, editAchievementBody, listAchievementsQuery, recertificationPolicy, recertificationPolicyBody } from '../../capabilities/achievements/schemas.js'
import { createAchievement, updateRecertificationPolicy, type AchievementDeps } from '../../capabilities/achievements/service.js'
import { editAchievement } from '../../capabilities/achievements/edit-achievement.js'
import { setAchievementArchived } from '../../capabilities/achievements/archive-achievement.js'
import { findAchievement, listAchievements } from '../../capabilities/achievements/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { JSON_LD_TYPES } from '../../infrastructure/http/json-ld-reply.js'
import { jsonLdDocument, locationHeader, nullableString, nullableTimestamp, problems, timestamp } from '../../infrastructure/http/common-schemas.js'

/** The issuer as embedded in credentials and achievements: an OB 3.0 Profile. */
const embeddedProfile = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'name'],
  properties: {
    id: { type: 'string' },
    type: { type: 'array', items: { type: 'string' } },
    name: { type: 'string' },
    url: { type: 'string' },
    email: { type: 'string' },
    description: { type: 'string' }
  }
} as const

/** The OB 3.0 Achievement, as embedded in credentials. */
const achievementDocument = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'name', 'description', 'criteria', 'creator'],
  properties: {
    id: { type: 'string', description: 'The public URL (/achievements/{id})' },
    type: { type: 'array', items: { type: 'string' } },
    achievementType: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    criteria: { type: 'object', additionalProperties: false, properties: { id: { type: 'string' }, narrative: { type: 'string' } } },
    image: { type: 'object', additionalProperties: false, required: ['id', 'type'], properties: { id: { type: 'string' }, type: { type: 'string' }, caption: { type: 'string' } } },
    creator: embeddedProfile
  }
} as const

/** The staff API's view of an achievement: its short id, settings and OB document. */
const achievementResourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'issuerId', 'validityMonths', 'recertification', 'createdAt', 'updatedAt', 'archived', 'archivedAt', 'imageFetchedFrom', 'achievement'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    issuerId: { type: 'string' },
    validityMonths: { type: ['integer', 'null'] },
    // Nullable by type, not anyOf: the serializer would otherwise validate stored rules against today's request rules.
    recertification: { ...recertificationPolicy, type: ['object', 'null'] },
    createdAt: timestamp,
    updatedAt: { ...nullableTimestamp, description: 'The last edit (null: never edited)' },
    archived: { type: 'boolean', description: 'Archived: no new credentials or recertifications; its badges still verify' },
    archivedAt: nullableTimestamp,
    imageFetchedFrom: { type: ['string', 'null'], description: 'The https URL the stored image was fetched from (null: given inline, or none)' },
    achievement: achievementDocument
  }
} as const

type AchievementResource = FromSchema<typeof achievementResourceSchema>
/** The capability builds the resource; the schema is its contract, which the serializer holds it to. */
const resourceOf = (...args: Parameters<typeof achievementResource>): AchievementResource => achievementResource(...args) as AchievementResource

/** What defining or editing needs from the app and the request. */
const definitionDeps = (app: FastifyInstance, request: FastifyRequest): AchievementDeps =>
  ({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id, allowLoopback: app.config.outbound.allowLoopback })

/** Staff routes, registered under /api/v1 behind bearer auth. */
export async function achievementStaffRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.post('/achievements', {
    schema: {
      summary: 'Define an achievement (and its recertification rules)',
      tags: [TAG.staffAchievements],
      body: createAchievementBody,
      response: {
        201: { description: 'Defined', headers: locationHeader, ...achievementResourceSchema },
        ...problems([404, 'No issuer has that "issuerId"'], [422, 'The https image could not be fetched or is not a usable image (achievement_image_refused: `url` and `reason`)'])
      }
    },
    config: { scope: 'achievements:write' }
  }, async (request, reply) => {
    const { achievement, issuer } = await createAchievement({ ...definitionDeps(app, request), defaultIssuerId: app.config.issuer.id }, request.body)
    const resource = resourceOf(achievement, issuer, app.urls)
    return await reply.code(201).header('Location', resource.url).send(resource)
  })

  app.get('/achievements', {
    schema: {
      summary: 'List achievements',
      tags: [TAG.staffAchievements],
      querystring: listAchievementsQuery,
      response: {
        200: {
          description: 'A page of achievements, archived ones included (`archived: true`) unless `archived=false`; `next` is the `after` of the next page (null on the last)',
          type: 'object',
          additionalProperties: false,
          required: ['items', 'next'],
          properties: { items: { type: 'array', items: achievementResourceSchema }, next: nullableString }
        }
      }
    },
    config: { scope: 'achievements:read' }
  }, async (request) => {
    const query = request.query
    const limit = query.limit ?? 100
    const rows = await listAchievements(app.sql, { limit, ...(query.after !== undefined ? { after: query.after } : {}), ...(query.archived !== undefined ? { archived: query.archived } : {}) })
    const issuers = new Map<string, Awaited<ReturnType<typeof findIssuer>>>()
    const items = []
    for (const row of rows) {
      if (!issuers.has(row.issuerId)) issuers.set(row.issuerId, await findIssuer(app.sql, row.issuerId))
      items.push(resourceOf(row, issuers.get(row.issuerId)!, app.urls))
    }
    return { items, next: rows.length === limit ? rows[rows.length - 1]!.id : null }
  })

  app.get('/achievements/:id', {
    schema: {
      summary: 'One achievement',
      tags: [TAG.staffAchievements],
      params: achievementIdParams,
      response: { 200: { description: 'The achievement', ...achievementResourceSchema }, ...problems(404) }
    },
    config: { scope: 'achievements:read' }
  }, async (request) => {
    const { id } = request.params
    const achievement = await findAchievement(app.sql, id)
    if (achievement === undefined) throw notFound(`Achievement "${id}"`)
    return resourceOf(achievement, (await findIssuer(app.sql, achievement.issuerId))!, app.urls)
  })

  await achievementPolicyRoutes(app)
  await achievementEditRoutes(app)
}

/** Editing and archiving: later versions use the new definition; signed ones are untouched. */
async function achievementEditRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const respond = async (achievement: Awaited<ReturnType<typeof editAchievement>>): Promise<AchievementResource> => {
    const issuer = await findIssuer(app.sql, achievement.issuerId)
    if (issuer === undefined) throw notFound(`Issuer "${achievement.issuerId}"`)
    return resourceOf(achievement, issuer, app.urls)
  }
  app.patch('/achievements/:id', {
    schema: {
      summary: 'Edit an achievement (only credentials signed from now on carry the change)',
      tags: [TAG.staffAchievements],
      params: achievementIdParams,
      body: editAchievementBody,
      response: {
        200: { description: 'The achievement as edited', ...achievementResourceSchema },
        ...problems(404, [422, 'The https image could not be fetched or is not a usable image (achievement_image_refused: `url` and `reason`)'])
      }
    },
    config: { scope: 'achievements:write' }
  }, async (request) => await respond(await editAchievement(definitionDeps(app, request), request.params.id, request.body)))

  for (const [verb, archive] of [['archive', true], ['unarchive', false]] as const) {
    app.post(`/achievements/:id/${verb}`, {
      schema: {
        summary: archive ? 'Archive an achievement: no new credentials or recertifications; its badges still verify' : 'Unarchive an achievement: it can be issued again',
        tags: [TAG.staffAchievements],
        params: achievementIdParams,
        response: { 200: { description: archive ? 'The achievement, archived (archiving twice changes nothing)' : 'The achievement, in use again', ...achievementResourceSchema }, ...problems(404) }
      },
      config: { scope: 'achievements:write' }
    }, async (request) => await respond(await setAchievementArchived({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id }, request.params.id, archive)))
  }
}

/** Recertification rules are data: staff set or change them without a deploy. */
async function achievementPolicyRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.put('/achievements/:id/recertification', {
    schema: {
      summary: 'Set or remove an achievement\'s recertification rules',
      tags: [TAG.staffAchievements],
      params: achievementIdParams,
      body: recertificationPolicyBody,
      response: { 200: { description: 'The achievement with its new rules', ...achievementResourceSchema }, ...problems(404) }
    },
    config: { scope: 'achievements:write' }
  }, async (request) => {
    const { id } = request.params
    const { recertification } = request.body
    const achievement = await updateRecertificationPolicy({ sql: app.sql, actor: staffOf(request).actor, requestId: request.id }, id, recertification)
    const issuer = await findIssuer(app.sql, achievement.issuerId)
    if (issuer === undefined) throw notFound(`Issuer "${achievement.issuerId}"`)
    return resourceOf(achievement, issuer, app.urls)
  })
}

/** The public OB Achievement document at its id URL. */
export async function achievementPublicRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/achievements/:id', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'The OB Achievement document',
      tags: [TAG.documents],
      params: achievementIdParams,
      response: { 200: jsonLdDocument('The OB 3.0 Achievement (JSON-LD)', JSON_LD_TYPES), ...problems(404, 406) }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const achievement = await findAchievement(app.sql, id)
    if (achievement === undefined) throw notFound(`Achievement "${id}"`)
    const issuer = (await findIssuer(app.sql, achievement.issuerId))!
    return await reply.sendJsonLd(publicAchievementDocument(achievement, issuer, app.urls))
  })
}
