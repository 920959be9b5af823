import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { setAchievementArchived } from '../../capabilities/achievements/archive-achievement.js'
import { editAchievement } from '../../capabilities/achievements/edit-achievement.js'
import { createAchievement, type AchievementDeps } from '../../capabilities/achievements/service.js'
import { findAchievement, listAchievements, type AchievementRow } from '../../capabilities/achievements/store.js'
import { listAuditEvents } from '../../capabilities/audit/store.js'
import { searchCredentials } from '../../capabilities/back-office/store.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { achievementDesignConsoleRoutes } from './achievement-design.js'
import { ACHIEVEMENT_FORM_FIELDS, adviceSamples, changesInWords, definitionOf, EMPTY_FORM, formFromBody, formOf, hiddenFieldsOf, rulesInWords, sameRules, typeChoices, type AchievementDefinitionForm, type AchievementForm } from './achievement-form.js'
import { may, sendConsolePage } from './page.js'

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: ID_PATTERN } } } as const
/** The second step of a form: without it, the post shows what will happen and asks again. */
const confirmed = { type: 'string', enum: ['yes'] } as const
const formBody = {
  type: 'object',
  additionalProperties: false,
  properties: { _csrf: text(200), ...ACHIEVEMENT_FORM_FIELDS, step: { type: 'string', enum: ['preview', 'save'], description: 'preview: show what holders would read under the rules typed, saving nothing' }, confirmed }
} as const
const toPage = (description: string): Record<number, unknown> => ({ 303: noBody(description, { Location: { type: 'string', description: 'The achievement\'s console page' } }) })
const refusals = {
  400: htmlPage('The form again, saying what is wrong with it'),
  401: htmlPage('Not signed in: the console session ended'),
  403: htmlPage('The role does not allow it, or the form expired'),
  404: htmlPage('No such achievement'),
  429: htmlPage('Too many posts from this address (Retry-After)')
} as const
/** A page asked for without a console session: to the sign-in page, which comes back here. */
const signedOut = { 303: noBody('Not signed in: to the sign-in page', { Location: { type: 'string', description: '/console/sign-in?next=…' } }) } as const
const DONE = {
  created: 'The achievement is defined: badges can be issued for it.',
  saved: 'Saved. Badges issued, corrected or renewed from now on carry the new definition; signed ones keep theirs.',
  unchanged: 'Nothing changed: the form was as the achievement is.',
  archived: 'Archived: no new badges or renewals can be issued for it; existing badges stay valid.',
  unarchived: 'In use again: badges can be issued for it.'
} as const

const validity = (months: number | null): string => months === null ? 'Does not expire' : `${months} months`

/**
 * Achievements in the console: the list, defining one, its page with the
 * edit form, archiving, and the rules editor's preview of the renewal advice
 * holders will read (renewalAdvice, for sample badges, saving nothing). Each
 * change answers a confirmation saying what will happen first, then calls the
 * staff API's own functions with the staff user as the audited actor. The
 * design pages are achievement-design.ts.
 */
export async function achievementsRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { preValidation: app.csrfProtection }
  const limited = perMinute(app.config.rateLimits.formsPerMinute)
  const definitionDeps = (request: FastifyRequest): AchievementDeps =>
    ({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id, allowLoopback: app.config.outbound.allowLoopback })
  const achievementOr404 = async (id: string): Promise<AchievementRow> => {
    const achievement = await findAchievement(app.sql, id)
    if (achievement === undefined) throw notFound(`Achievement ${id}`)
    return achievement
  }
  const confirm = (request: FastifyRequest, reply: FastifyReply, action: { heading: string, subject?: { href: string, name: string }, consequences: string[], advice?: ReturnType<typeof adviceSamples>, url: string, button: string, danger?: boolean, cancel: string, fields: Record<string, string> }): FastifyReply =>
    sendConsolePage(request, reply, 'achievement-confirm', { title: action.heading, ...action })

  /** What the rules typed (or saved) tell holders, for the page's preview. */
  const advice = (rules: AchievementDefinitionForm['recertification'], validityMonths: number | null, unsaved: boolean): Record<string, unknown> =>
    ({ unsaved, rules: rulesInWords(rules), expires: validityMonths !== null, samples: adviceSamples(rules, app.clock()) })

  const listPage = async (request: FastifyRequest, reply: FastifyReply, form: AchievementForm, extra: { error?: string, preview?: Record<string, unknown> } = {}, status = 200): Promise<FastifyReply> => {
    const rows = await listAchievements(app.sql, { limit: 500 })
    return sendConsolePage(request, reply, 'achievements', {
      title: 'Achievements',
      achievements: rows.map((a) => ({ id: a.id, name: a.name, type: a.achievementType ?? '', validity: validity(a.validityMonths), rules: rulesInWords(a.recertification), state: a.archivedAt === null ? 'In use' : `Archived on ${longDate(a.archivedAt) ?? ''}` })),
      canWrite: may(request, 'achievements:write'),
      form,
      types: typeChoices(form.achievementType),
      ...extra
    }, status)
  }

  const achievementPage = async (request: FastifyRequest, reply: FastifyReply, achievement: AchievementRow, extra: { done?: string, error?: string, form?: AchievementForm, preview?: Record<string, unknown> } = {}, status = 200): Promise<FastifyReply> => {
    const [credentials, audit] = await Promise.all([
      searchCredentials(app.sql, { achievementId: achievement.id, limit: 1, offset: 0 }, app.clock()),
      listAuditEvents(app.sql, { subjectType: 'achievement', subjectId: achievement.id, limit: 50 })
    ])
    const form = extra.form ?? formOf(achievement)
    return sendConsolePage(request, reply, 'achievement', {
      title: achievement.name,
      achievement: {
        id: achievement.id,
        name: achievement.name,
        description: achievement.description,
        narrative: achievement.criteria.narrative ?? '',
        criteriaUrl: achievement.criteria.id ?? '',
        type: achievement.achievementType ?? 'None',
        validity: validity(achievement.validityMonths),
        rules: rulesInWords(achievement.recertification),
        archived: achievement.archivedAt === null ? undefined : longDate(achievement.archivedAt),
        url: app.urls.achievement(achievement.id),
        credentials: credentials.total
      },
      done: extra.done,
      error: extra.error,
      preview: extra.preview ?? advice(achievement.recertification, achievement.validityMonths, false),
      canWrite: may(request, 'achievements:write'),
      form,
      types: typeChoices(form.achievementType),
      audit: audit.map((e) => ({ at: `${e.occurredAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`, actor: e.actorName ?? e.actor, action: e.action }))
    }, status)
  }

  /** The form's definition, or the page again with the refusal in its own words. */
  const judged = (form: AchievementForm): { definition: AchievementDefinitionForm } | { error: AppError } => {
    try {
      return { definition: definitionOf(form) }
    } catch (error) {
      if (error instanceof AppError) return { error }
      throw error
    }
  }

  app.get('/console/achievements', {
    config: { scope: 'achievements:read' },
    schema: { summary: 'Achievements: the list, and the form to define one', tags: [TAG.console], response: { 200: htmlPage('The list and the form'), ...signedOut } }
  }, async (request, reply) => await listPage(request, reply, EMPTY_FORM))

  app.post('/console/achievements', {
    ...posts,
    config: { scope: 'achievements:write', ...limited },
    schema: {
      summary: 'Define an achievement (step=preview shows the renewal advice of the rules typed; otherwise asks to confirm first)',
      tags: [TAG.console],
      body: formBody,
      response: { 200: htmlPage('The preview, or what will happen and a button to confirm'), ...toPage('Defined'), ...refusals }
    }
  }, async (request, reply) => {
    const form = formFromBody(request.body)
    const result = judged(form)
    if ('error' in result) return await listPage(request, reply, form, { error: result.error.message }, result.error.statusCode)
    const { definition } = result
    if (request.body.step === 'preview') return await listPage(request, reply, form, { preview: advice(definition.recertification, definition.validityMonths, true) })
    if (request.body.confirmed !== 'yes') {
      return confirm(request, reply, {
        heading: `Define “${definition.name}”?`,
        consequences: [
          `A new achievement, ${definition.achievementType ?? 'with no type'}, ${definition.validityMonths === null ? 'whose badges do not expire' : `whose badges are valid for ${definition.validityMonths} months`}.`,
          `${rulesInWords(definition.recertification)}`,
          'Badges can be issued for it as soon as it is defined.'
        ],
        ...(definition.validityMonths === null ? {} : { advice: adviceSamples(definition.recertification, app.clock()) }),
        url: '/console/achievements',
        button: 'Define it',
        cancel: '/console/achievements',
        fields: { ...hiddenFieldsOf(form), confirmed: 'yes' }
      })
    }
    const { achievement } = await createAchievement({ ...definitionDeps(request), defaultIssuerId: app.config.issuer.id }, {
      name: definition.name,
      description: definition.description,
      criteria: definition.criteria,
      ...(definition.achievementType === null ? {} : { achievementType: definition.achievementType }),
      ...(definition.validityMonths === null ? {} : { validityMonths: definition.validityMonths }),
      ...(definition.recertification === null ? {} : { recertification: definition.recertification })
    } as Parameters<typeof createAchievement>[1])
    return await reply.redirect(`/console/achievements/${achievement.id}?done=created`, 303)
  })

  app.get('/console/achievements/:id', {
    config: { scope: 'achievements:read' },
    schema: {
      summary: 'An achievement: its definition, rules and what holders read, the edit form, archiving, its audit trail',
      tags: [TAG.console],
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { done: { type: 'string', enum: Object.keys(DONE) } } },
      response: { 200: htmlPage('The achievement\'s page'), ...signedOut, 404: htmlPage('No such achievement') }
    }
  }, async (request, reply) => {
    const achievement = await achievementOr404(request.params.id)
    const done = request.query.done as keyof typeof DONE | undefined
    return await achievementPage(request, reply, achievement, done === undefined ? {} : { done: DONE[done] })
  })

  app.post('/console/achievements/:id', {
    ...posts,
    config: { scope: 'achievements:write', ...limited },
    schema: {
      summary: 'Edit an achievement (step=preview shows the renewal advice of the rules typed; otherwise asks to confirm first)',
      tags: [TAG.console],
      params: idParams,
      body: formBody,
      response: { 200: htmlPage('The preview, or what will change and a button to confirm'), ...toPage('Saved'), ...refusals }
    }
  }, async (request, reply) => {
    const achievement = await achievementOr404(request.params.id)
    const form = formFromBody(request.body)
    const result = judged(form)
    if ('error' in result) return await achievementPage(request, reply, achievement, { form, error: result.error.message }, result.error.statusCode)
    const { definition } = result
    if (request.body.step === 'preview') return await achievementPage(request, reply, achievement, { form, preview: advice(definition.recertification, definition.validityMonths, true) })
    const changes = changesInWords(achievement, definition)
    if (changes.length === 0) return await reply.redirect(`/console/achievements/${achievement.id}?done=unchanged`, 303)
    const rulesChange = !sameRules(achievement.recertification, definition.recertification)
    if (request.body.confirmed !== 'yes') {
      return confirm(request, reply, {
        heading: `Save the changes to “${achievement.name}”?`,
        subject: { href: `/console/achievements/${achievement.id}`, name: achievement.name },
        consequences: [...changes, 'Badges already signed keep the definition they were signed with; corrections and renewals from now on use the new one.'],
        ...(rulesChange ? { advice: adviceSamples(definition.recertification, app.clock()) } : {}),
        url: `/console/achievements/${achievement.id}`,
        button: 'Save',
        cancel: `/console/achievements/${achievement.id}`,
        fields: { ...hiddenFieldsOf(form), confirmed: 'yes' }
      })
    }
    await editAchievement(definitionDeps(request), achievement.id, {
      name: definition.name,
      description: definition.description,
      criteria: definition.criteria,
      achievementType: definition.achievementType as Parameters<typeof editAchievement>[2]['achievementType'],
      validityMonths: definition.validityMonths,
      // The same rules in other words (none vs exam only) are left as stored.
      ...(rulesChange ? { recertification: definition.recertification } : {})
    } as Parameters<typeof editAchievement>[2])
    return await reply.redirect(`/console/achievements/${achievement.id}?done=saved`, 303)
  })

  for (const [verb, archive] of [['archive', true], ['unarchive', false]] as const) {
    app.post(`/console/achievements/:id/${verb}`, {
      ...posts,
      config: { scope: 'achievements:write', ...limited },
      schema: {
        summary: archive ? 'Archive an achievement: no new badges; existing ones stay valid (asks to confirm first)' : 'Put an archived achievement back in use (asks to confirm first)',
        tags: [TAG.console],
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { _csrf: text(200), confirmed } },
        response: { 200: htmlPage('What will happen, and a button to confirm'), ...toPage(archive ? 'Archived' : 'In use again'), ...refusals }
      }
    }, async (request, reply) => {
      const achievement = await achievementOr404(request.params.id)
      if (request.body.confirmed !== 'yes') {
        return confirm(request, reply, {
          heading: archive ? `Archive “${achievement.name}”?` : `Put “${achievement.name}” back in use?`,
          subject: { href: `/console/achievements/${achievement.id}`, name: achievement.name },
          consequences: archive
            ? ['No new badges can be issued for it (single, batch, CSV or order approval), and no renewals; existing badges stay valid, still verify, and can still be corrected or revoked.', 'You can put it back in use later.']
            : ['Badges can be issued and renewed for it again.'],
          url: `/console/achievements/${achievement.id}/${verb}`,
          button: archive ? 'Archive' : 'Put back in use',
          ...(archive ? { danger: true } : {}),
          cancel: `/console/achievements/${achievement.id}`,
          fields: { confirmed: 'yes' }
        })
      }
      await setAchievementArchived({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id }, achievement.id, archive)
      return await reply.redirect(`/console/achievements/${achievement.id}?done=${archive ? 'archived' : 'unarchived'}`, 303)
    })
  }

  await app.register(achievementDesignConsoleRoutes)
}
