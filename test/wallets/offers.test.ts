import t, { type Test } from 'tap'
import { findWalletOfferByTokenHash } from '../../src/capabilities/wallets/store.js'
import { createWalletOffer, OFFERS_PER_BADGE_PER_HOUR, secretHash, txCodeMatches } from '../../src/capabilities/wallets/offers.js'
import { BASE_URL, build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { FAST_JOBS, startSmtpServer, waitFor } from '../helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from '../helpers/portal.js'

/**
 * Add to wallet, without a browser: the portal's page and button (own
 * badges only, not revoked, at most OFFERS_PER_BADGE_PER_HOUR an hour), the
 * interaction URL in JSON for wallets and as a page for people (410 once
 * expired), and the issue email's own offer with its transaction code. Real
 * SMTP (smtp-server), real PostgreSQL.
 */

const OFFER_PATH = /^\/wallet\/offers\/([\w-]{43})\?iuv=1$/

async function setUp (t: Test, clock?: () => Date): Promise<{ app: TestApp, smtp: Awaited<ReturnType<typeof startSmtpServer>>, jane: { id: string }, bob: { id: string }, jar: CookieJar }> {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: smtp.url }, ...(clock !== undefined ? { clock } : {}) })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  const jane = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const bob = await issue(app, { achievementId: achievement.id, recipient: { name: 'Bob Other', email: 'bob@example.org' } })
  await app.app.background.settled()
  const jar = new CookieJar()
  await signIn(app, jar, 'jane@example.org', smtp.messages)
  return { app, smtp, jane, bob, jar }
}

/** The holder asks for an offer: the page, then its button. */
async function addToWallet (app: TestApp, jar: CookieJar, id: string): Promise<{ status: number, location?: string, body: string }> {
  const page = await getPage(app, jar, `/account/badges/${id}/wallet`)
  const response = await postForm(app, jar, `/account/badges/${id}/wallet`, { _csrf: csrfToken(page.body) })
  return { status: response.statusCode, body: response.body, ...(typeof response.headers.location === 'string' ? { location: response.headers.location } : {}) }
}

t.test('My badges links to Add to wallet; the button makes a portal offer, audited, and leads to its page with both QR codes and the wallets\' links', async (t) => {
  const { app, jane, jar } = await setUp(t)
  const mine = await getPage(app, jar, '/account')
  t.match(mine.body, `href="/account/badges/${jane.id}/wallet">Add to wallet</a>`, 'a link per badge on My badges')

  const explained = await getPage(app, jar, `/account/badges/${jane.id}/wallet`)
  t.equal(explained.statusCode, 200)
  t.match(explained.body, /Learner Credential Wallet and LearnCard/)
  t.match(explained.body, /issued to that identifier/, 'the wallet copy is bound to the wallet\'s identifier')
  t.match(explained.body, /Your other copies keep working/)
  t.match(explained.body, /<button type="submit">Add to wallet<\/button>/)

  const made = await addToWallet(app, jar, jane.id)
  t.equal(made.status, 303, 'post, then redirect')
  const token = OFFER_PATH.exec(made.location ?? '')?.[1]
  t.ok(token, `to the interaction URL (${made.location ?? 'none'})`)
  const row = await findWalletOfferByTokenHash(app.sql, secretHash(token ?? ''))
  t.equal(row?.channel, 'portal')
  t.equal(row?.credentialId, jane.id)
  t.equal(row?.txCodeHash, null, 'no transaction code on a portal offer')
  t.equal((row?.expiresAt.getTime() ?? 0) - (row?.createdAt.getTime() ?? 0), 15 * 60_000, '15 minutes')
  const audit = await app.sql<Array<{ actor: string, details: { offerId: string, channel: string } }>>`select actor, details from audit_events where action = 'wallet.offer_created' and subject_id = ${jane.id} order by id`
  t.same(audit.map((a) => [a.actor, a.details.channel, a.details.offerId]).at(-1), ['holder', 'portal', row?.id], 'audited')

  const page = await getPage(app, new CookieJar(), made.location ?? '')
  t.equal(page.statusCode, 200, 'the page needs no session: the link is the secret')
  t.equal(page.headers['cache-control'], 'no-store')
  t.match(page.headers.vary, /Accept/)
  t.match(page.body, /<img id="wallet-qr" class="wallet-qr" src="data:image\/png;base64,/)
  t.match(page.body, /<img id="oid4vci-qr" class="wallet-qr" src="data:image\/png;base64,/)
  const interaction = `${BASE_URL}/wallet/offers/${token ?? ''}?iuv=1`
  const exchange = `${BASE_URL}/wallet/exchanges/${token ?? ''}`
  const lcw = /id="open-lcw" href="([^"]+)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&') ?? ''
  t.equal(new URL(lcw).origin + new URL(lcw).pathname, 'https://lcw.app/request', 'the Learner Credential Wallet link')
  t.equal(new URL(lcw).searchParams.get('vc_request_url'), `${exchange}/credential-request`, 'its credential request link, for this offer')
  t.ok(page.body.includes(`href="https://learncard.app/request?vc_request_url=${encodeURIComponent(exchange)}"`), 'the LearnCard link')
  t.ok(page.body.includes(`value="${interaction}"`), 'the interaction URL to copy')
  t.match(page.body, /works <strong>once<\/strong>/)
  t.match(page.body, /UTC \(in 15 minutes\)/, 'when it expires, in words')
  t.notMatch(page.body, /transaction code/, 'a portal offer has none')

  for (const accept of ['application/json', undefined, '*/*']) {
    const json = await app.app.inject({ method: 'GET', url: made.location ?? '', headers: accept === undefined ? {} : { accept } })
    t.equal(json.statusCode, 200)
    t.equal(json.headers['content-type'], 'application/json; charset=utf-8', `JSON for Accept: ${accept ?? '(none)'}`)
    t.same(json.json(), { protocols: { vcapi: exchange, OID4VCI: `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(`${BASE_URL}/wallet/oid4vci/offers/${token ?? ''}`)}` }, expires: row?.expiresAt.toISOString() })
  }
})

t.test('another holder\'s badge is not found; a revoked badge is refused; signed out goes to sign-in', async (t) => {
  const { app, jane, bob, jar } = await setUp(t)
  t.equal((await getPage(app, jar, `/account/badges/${bob.id}/wallet`)).statusCode, 404, 'another holder\'s badge: 404')
  const page = await getPage(app, jar, `/account/badges/${jane.id}/wallet`)
  const other = await postForm(app, jar, `/account/badges/${bob.id}/wallet`, { _csrf: csrfToken(page.body) })
  t.equal(other.statusCode, 404)
  const none = await app.sql`select 1 from wallet_offers where credential_id = ${bob.id} and channel = 'portal'`
  t.equal(none.length, 0, 'no offer of another holder\'s badge')
  t.equal((await postForm(app, jar, `/account/badges/${jane.id}/wallet`, {})).statusCode, 403, 'no CSRF token: 403')
  const signedOut = await app.app.inject({ method: 'GET', url: `/account/badges/${jane.id}/wallet` })
  t.equal(signedOut.statusCode, 303)
  t.equal(signedOut.headers.location, '/account')

  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${jane.id}/revoke`, headers: app.auth, payload: { reason: 'Issued in error' } })
  const explained = await getPage(app, jar, `/account/badges/${jane.id}/wallet`)
  t.match(explained.body, /This badge is revoked/)
  t.notMatch(explained.body, /<button type="submit">Add to wallet/)
  t.notMatch((await getPage(app, jar, '/account')).body, `/account/badges/${jane.id}/wallet`, 'no Add to wallet link for a revoked badge')
  const refused = await postForm(app, jar, `/account/badges/${jane.id}/wallet`, { _csrf: csrfToken(page.body) })
  t.equal(refused.statusCode, 409)
  t.match(refused.body, /a revoked badge cannot be added to a wallet/)
})

t.test(`at most ${OFFERS_PER_BADGE_PER_HOUR} offers of one badge an hour: then a 429 page`, async (t) => {
  let now = new Date('2026-12-05T09:00:00Z')
  const { app, jane, jar } = await setUp(t, () => now)
  const existing = (await app.sql<[{ n: number }]>`select count(*)::int as n from wallet_offers where credential_id = ${jane.id}`)[0].n
  for (let i = existing; i < OFFERS_PER_BADGE_PER_HOUR; i++) {
    await createWalletOffer({ sql: app.sql, now, baseUrl: BASE_URL, actor: 'test' }, { credentialId: jane.id, holderEmail: 'jane@example.org', channel: 'portal', revoked: false })
  }
  const refused = await addToWallet(app, jar, jane.id)
  t.equal(refused.status, 429)
  t.match(refused.body, new RegExp(`At most ${OFFERS_PER_BADGE_PER_HOUR} wallet offers of one badge`))
  // The limit is the holder's button's: a badge email staff caused still carries its offer.
  const emailed = await createWalletOffer({ sql: app.sql, now, baseUrl: BASE_URL, actor: 'test' }, { credentialId: jane.id, holderEmail: 'jane@example.org', channel: 'email', revoked: false })
  t.ok(emailed.txCode !== undefined, 'an email offer is made beyond the portal\'s limit')
  t.equal((await addToWallet(app, jar, jane.id)).status, 429, 'and the portal is still refused')
  now = new Date(now.getTime() + 3601_000)
  t.equal((await addToWallet(app, jar, jane.id)).status, 303, 'an hour later, allowed again')
})

t.test('an expired offer answers 410 at its interaction URL, to wallets and to browsers; an unknown one 404', async (t) => {
  let now = new Date('2026-12-05T09:00:00Z')
  const { app, jane, jar } = await setUp(t, () => now)
  const made = await addToWallet(app, jar, jane.id)
  t.equal((await app.app.inject({ method: 'GET', url: made.location ?? '', headers: { accept: 'application/json' } })).statusCode, 200)
  now = new Date(now.getTime() + 15 * 60_000 + 1000)
  const json = await app.app.inject({ method: 'GET', url: made.location ?? '', headers: { accept: 'application/json' } })
  t.equal(json.statusCode, 410)
  t.match(json.json().type, /wallet_offer_expired/)
  const html = await app.app.inject({ method: 'GET', url: made.location ?? '', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
  t.equal(html.statusCode, 410)
  t.match(html.headers['content-type'], /text\/html/)
  t.match(html.body, /expired/)
  const unknown = await app.app.inject({ method: 'GET', url: `/wallet/offers/${'A'.repeat(43)}?iuv=1`, headers: { accept: 'application/json' } })
  t.equal(unknown.statusCode, 404)
})

t.test('the issue email carries an email offer: its link works, the 6-digit transaction code is in the text, not the link; audited', async (t) => {
  const { app, smtp, jane } = await setUp(t)
  const mail = await waitFor('the issue email', () => smtp.messages.find((m) => m.envelopeTo.includes('jane@example.org') && /digital badge/.test(m.subject ?? '') && !/sign-in/i.test(m.subject ?? '')))
  const text = mail.text ?? ''
  const link = /https:\/\/badges\.test\.example\/wallet\/offers\/([\w-]{43})\?iuv=1/.exec(text)
  t.ok(link, 'the text has the offer\'s link')
  const code = /transaction code, enter (\d{6})\./.exec(text)?.[1]
  t.match(code, /^\d{6}$/, 'a 6-digit code')
  t.notMatch(link?.[0] ?? '', code ?? 'none', 'the code is not in the link')
  t.ok((typeof mail.html === 'string' ? mail.html : '').includes(`href="${link?.[0] ?? 'none'}"`), 'the HTML part links to the same offer')
  t.match(typeof mail.html === 'string' ? mail.html : '', `<strong>${code ?? 'none'}</strong>`)
  t.match(text, /It works once, until \d{1,2} \w+ \d{4} at \d\d:\d\d UTC\./)

  const row = await findWalletOfferByTokenHash(app.sql, secretHash(link?.[1] ?? ''))
  t.equal(row?.channel, 'email')
  t.equal(row?.credentialId, jane.id)
  t.ok(row !== undefined && txCodeMatches(row, code ?? ''), 'the stated code is the offer\'s')
  t.equal((row?.expiresAt.getTime() ?? 0) - (row?.createdAt.getTime() ?? 0), 14 * 24 * 3600_000, '14 days')
  const json = await app.app.inject({ method: 'GET', url: new URL(link?.[0] ?? BASE_URL).pathname + '?iuv=1', headers: { accept: 'application/json' } })
  t.equal(json.statusCode, 200)
  t.match(json.json(), { protocols: { vcapi: `${BASE_URL}/wallet/exchanges/${link?.[1] ?? ''}` } })
  const page = await app.app.inject({ method: 'GET', url: new URL(link?.[0] ?? BASE_URL).pathname + '?iuv=1', headers: { accept: 'text/html' } })
  t.match(page.body, /The wallet will ask for the 6-digit transaction code: it is in the email/, 'the page of an email offer tells where the code is')
  t.notMatch(page.body, code ?? 'none', 'and does not show it')
  const audit = await app.sql<Array<{ actor: string, details: { offerId: string, channel: string } }>>`select actor, details from audit_events where action = 'wallet.offer_created' and subject_id = ${jane.id} order by id`
  t.same(audit.map((a) => [a.actor, a.details.channel, a.details.offerId]), [['notifications', 'email', row?.id]], 'audited')
})
