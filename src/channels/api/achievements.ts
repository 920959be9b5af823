import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { notFound } from '../../kernel/errors.js'
import { findIssuer } from '../../capabilities/issuers/store.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { achievementResource, publicAchievementDocument } from '../../capabilities/achievements/achievement-document.js'
import { achievementIdParams, createAchievementBody, listAchievementsQuery, recertificationPolicyBody } from '../../capabilities/achievements/schemas.js'
import { createAchievement, updateRecertificationPolicy } from '../../capabilities/achievements/service.js'
import { findAchievement, listAchievements } from '../../capabilities/achievements/store.js'

/** Staff routes, registered under /api/v1 behind bearer auth. */
export async function achievementStaffRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.post('/achievements', {
    schema: { body: createAchievementBody },
    config: { scope: 'achievements:write' }
  }, async (request, reply) => {
    const { achievement, issuer } = await createAchievement(
      { sql: app.sql, defaultIssuerId: app.config.issuer.id, actor: staffOf(request).actor, requestId: request.id },
      request.body
    )
    const resource = achievementResource(achievement, issuer, app.urls)
    return await reply.code(201).header('Location', resource.url as string).send(resource)
  })

  app.get('/achievements', {
    schema: { querystring: listAchievementsQuery },
    config: { scope: 'achievements:read' }
  }, async (request) => {
    const query = request.query
    const limit = query.limit ?? 100
    const rows = await listAchievements(app.sql, { limit, ...(query.after !== undefined ? { after: query.after } : {}) })
    const issuers = new Map<string, Awaited<ReturnType<typeof findIssuer>>>()
    const items = []
    for (const row of rows) {
      if (!issuers.has(row.issuerId)) issuers.set(row.issuerId, await findIssuer(app.sql, row.issuerId))
      items.push(achievementResource(row, issuers.get(row.issuerId)!, app.urls))
    }
    return { items, next: rows.length === limit ? rows[rows.length - 1]!.id : null }
  })

  app.get('/achievements/:id', {
    schema: { params: achievementIdParams },
    config: { scope: 'achievements:read' }
  }, async (request) => {
    const { id } = request.params
    const achievement = await findAchievement(app.sql, id)
    if (achievement === undefined) throw notFound(`Achievement "${id}"`)
    return achievementResource(achievement, (await findIssuer(app.sql, achievement.issuerId))!, app.urls)
  })

  await achievementPolicyRoutes(app)
}

/** Recertification rules are data: staff set or change them without a deploy. */
async function achievementPolicyRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.put('/achievements/:id/recertification', {
    schema: { params: achievementIdParams, body: recertificationPolicyBody },
    config: { scope: 'achievements:write' }
  }, async (request) => {
    const { id } = request.params
    const { recertification } = request.body
    const achievement = await updateRecertificationPolicy({ sql: app.sql, actor: staffOf(request).actor, requestId: request.id }, id, recertification)
    const issuer = await findIssuer(app.sql, achievement.issuerId)
    if (issuer === undefined) throw notFound(`Issuer "${achievement.issuerId}"`)
    return achievementResource(achievement, issuer, app.urls)
  })
}

/** The public OB Achievement document at its id URL. */
export async function achievementPublicRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/achievements/:id', { config: perMinute(app.config.rateLimits.lookupPerMinute), schema: { params: achievementIdParams } }, async (request, reply) => {
    const { id } = request.params
    const achievement = await findAchievement(app.sql, id)
    if (achievement === undefined) throw notFound(`Achievement "${id}"`)
    const issuer = (await findIssuer(app.sql, achievement.issuerId))!
    return await reply.sendJsonLd(publicAchievementDocument(achievement, issuer, app.urls))
  })
}
