import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { loggerOptions } from '../src/infrastructure/logging.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, ADMIN_KEY } from './helpers/build-app.js'

t.test('a full scenario logs one line per request with its id, and never a key, a secret or an email', async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')); done() } })
  const logger = pino({ ...(loggerOptions('info') as object), level: 'info' }, sink)
  const app = await build(t, { logger })

  const created = (await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: 'Exam office', scopes: ['credentials:issue', 'credentials:read', 'achievements:write'] } })).json()
  const scoped = { authorization: `Bearer ${created.key as string}` }
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane.secret@example.org' } })
  await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { ...scoped, 'idempotency-key': 'idem-123' }, payload: { achievementId: achievement.id, recipient: { name: 'Sam', email: 'sam.private@example.org' } } })
  await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: scoped, payload: { achievementId: achievement.id, recipient: { name: 'Jane', email: 'jane.secret@example.org' } } }) // 409
  await app.app.inject({ method: 'GET', url: '/api/v1/credentials?email=jane.secret%40example.org', headers: scoped })
  await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: { ...scoped, 'content-type': 'text/csv' }, payload: `achievementId,name,email\n${achievement.id},Bo,bo.hidden@example.org\n` })
  await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
  await app.app.inject({ method: 'GET', url: '/api/v1/achievements', headers: { authorization: 'Bearer tsk_AAAAAAAAAAAA_wrong-secret-wrong-secret-wrong-secret-wrong' } })
  await app.app.inject({ method: 'GET', url: new URL(issued.url).pathname, headers: { accept: 'text/html' } })
  const signInToken = 'SignInTokenSignInTokenSignInTokenSignInToke'
  await app.app.inject({ method: 'GET', url: `/account/sign-in?token=${signInToken}` })
  await app.sql.unsafe(`create function boom() returns trigger language plpgsql as $$ begin raise exception 'boom'; end $$;
    create trigger boom before insert on badges for each row execute function boom();`)
  await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: { name: 'Err', email: 'err.person@example.org' } } }) // 500, logged with its error

  const log = lines.join('\n')
  const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request')
  t.ok(requests.length >= 10, `${requests.length} request lines`)
  t.ok(requests.every((l) => typeof l.reqId === 'string' && typeof l.status === 'number' && typeof l.url === 'string'), 'each names its request id, status and URL')
  const secret = (created.key as string).split('_').slice(2).join('_')
  for (const [what, needle] of [['the bootstrap key', ADMIN_KEY], ['a scoped key\'s secret', secret], ['an Authorization header', 'Bearer '], ['an email', '@example.org'], ['private key material', 'secretKeyMultibase'], ['a JWK private part', '"d":"'], ['a sign-in token', signInToken]] as const) {
    t.notOk(log.includes(needle), `no ${what} in the log`)
  }
  t.match(log, /"url":"\/api\/v1\/credentials\?email=%5Bredacted%5D"/, 'a searched email is redacted from the URL')
  t.match(log, /"url":"\/account\/sign-in\?token=%5Bredacted%5D"/, 'and a sign-in token')
  t.ok(lines.some((l) => l.includes('"level":50') && l.includes('boom')), 'the server error is logged, with its cause')
})
