import path from 'node:path'
import { bakePng } from '../src/capabilities/bake/png.js'
import { svgToPng } from '../src/infrastructure/web/images.js'
import { longDate } from '../src/infrastructure/web/dates.js'
import { accessibilityViolations, openBrowser } from './helpers/browser.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { generateDidKey, signCredential } from './helpers/did-key-signing.js'
import { FAST_JOBS, startSmtpServer, waitFor } from './helpers/notifications.js'
import { signInLink } from './helpers/portal.js'
import { ceBadge } from './helpers/continuing-education.js'
import { testNeeding } from './helpers/system-tools.js'

/**
 * Issue 24's walk, in a real headless Chromium against the listening app,
 * with a real SMTP server: a CMA (AAMA) holder signs in by the emailed link,
 * records three activities (a PDF certificate; a verifiable CE credential
 * from an approved provider; one from a provider the registry recognises but
 * the achievement does not approve, pasted as JSON), sees the progress, is
 * refused for too few points, adds more (a baked badge image), applies;
 * staff approve over the API; the badge page shows the new period and the
 * holder receives the "renewed" email. TESSERA_SCREENSHOTS=1 refreshes
 * docs/screenshots/continuing-education.png.
 */

type Json = Record<string, any>
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
const day = (date: Date): string => date.toISOString().slice(0, 10)

const completedCourse = (issuer: { id: string, name: string }, title: string, credits: number, completed: Date): Json =>
  ceBadge(issuer.id, { issuerName: issuer.name, title, credits, validFrom: completed.toISOString(), awardedDate: completed.toISOString() })

testNeeding(['chromium'], 'a holder records continuing education, is refused for too few points, applies, and is renewed when staff approve', { timeout: 240_000 }, async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: smtp.url } })
  const now = new Date()
  const cma = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } })

  // An approved CE provider, and one the registry recognises that this achievement does not approve.
  const approvedKey = await generateDidKey()
  const recognisedKey = await generateDidKey()
  const listed = await app.app.inject({ method: 'POST', url: `/api/v1/achievements/${cma.id}/approved-providers`, headers: app.auth, payload: { providerId: approvedKey.did, name: 'Midwest Allied Health CE (AAMA-approved)' } })
  t.equal(listed.statusCode, 201, listed.body)
  const registered = await app.app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: app.auth, payload: { issuerId: recognisedKey.did, name: 'State Nursing Education Network' } })
  t.equal(registered.statusCode, 201, registered.body)

  // Four years into a five-year period: about a year left.
  const validFrom = new Date(Date.UTC(now.getUTCFullYear() - 4, now.getUTCMonth(), 1))
  const badge = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: validFrom.toISOString() })
  const oldValidUntil = badge.credential.validUntil as string
  const address = await app.app.listen({ port: 0, host: '127.0.0.1' })
  const local = (url: string): string => `${address}${new URL(url).pathname}${new URL(url).search}`
  const { page, shots } = await openBrowser(t)

  // Sign in by the emailed link.
  await page.goto(`${address}/account`)
  await page.getByLabel('Email address').fill('jane@example.org')
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click()
  await app.app.background.settled()
  const link = await waitFor('the sign-in link', () => smtp.messages.find((m) => m.envelopeTo.includes('jane@example.org') && /sign-in link/.test(m.subject ?? '')))
  await page.goto(local(signInLink(link.text ?? '')))
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${address}/account`)
  const deadline = longDate(new Date(Date.UTC(new Date(oldValidUntil).getUTCFullYear(), new Date(oldValidUntil).getUTCMonth() + 3, new Date(oldValidUntil).getUTCDate())))
  t.match(await page.locator('.ce-progress').innerText(), `0 of 60 points, 0 of 30 approved, apply by ${deadline ?? ''}`, 'My badges: the progress and the last day continuing education is accepted')
  await page.getByRole('link', { name: 'Continuing education', exact: true }).click()
  await page.waitForURL(`${address}/account/badges/${badge.id}/continuing-education`)
  t.same(await accessibilityViolations(page), [], 'axe-core: the continuing-education page')

  // 1. A certificate upload (other continuing education).
  await page.getByLabel('Title').fill('Phlebotomy safety workshop')
  await page.getByLabel('Category').selectOption('other')
  await page.getByLabel('Provider (for other continuing education)').fill('County Community College')
  await page.getByLabel('Completion date').fill(day(new Date(now.getTime() - 40 * 86400_000)))
  await page.getByLabel('Points').fill('10')
  await page.getByLabel(/Certificate of completion/).setInputFiles({ name: 'phlebotomy-certificate.pdf', mimeType: 'application/pdf', buffer: PDF })
  await page.getByRole('button', { name: 'Add the activity' }).click()
  t.match(await page.locator('.notice').innerText(), 'Added "Phlebotomy safety workshop" (10 points).')

  // 2. A verifiable CE credential from the approved provider, pasted as JSON.
  const approvedIssuer = { id: approvedKey.did, name: 'Midwest Allied Health CE Institute' }
  const infection = await signCredential(completedCourse(approvedIssuer, 'Infection control update', 20, new Date(now.getTime() - 60 * 86400_000)), approvedKey)
  await page.getByLabel('Paste its link, JSON or JWT').fill(JSON.stringify(infection, null, 2))
  await page.getByRole('button', { name: 'Add the credential' }).click()
  t.match(await page.locator('.notice').innerText(), 'Added "Infection control update" from Midwest Allied Health CE (AAMA-approved) (20 points, approved).')

  // 3. One from the provider the registry recognises but the achievement does not approve: it counts as other.
  const ethics = await signCredential(completedCourse({ id: recognisedKey.did, name: 'State Nursing Education Network' }, 'Medical ethics seminar', 5, new Date(now.getTime() - 90 * 86400_000)), recognisedKey)
  await page.getByLabel('Paste its link, JSON or JWT').fill(JSON.stringify(ethics))
  await page.getByRole('button', { name: 'Add the credential' }).click()
  t.match(await page.locator('.notice').innerText(), 'Added "Medical ethics seminar" from State Nursing Education Network (5 points, other).')

  // The progress, and Apply refused for too few points.
  t.match(await page.locator('.ce-summary').innerText(), '35 of 60 points, 20 of 30 approved')
  t.same(await page.locator('table.ce-activities tbody tr td:first-child').allInnerTexts(), ['Phlebotomy safety workshop', 'Infection control update', 'Medical ethics seminar'], 'newest completion first')
  const apply = page.getByRole('button', { name: 'Apply for recertification' })
  t.ok(await apply.isDisabled(), 'the button is disabled while the rules are not met')
  t.match(await page.locator('#why-not').innerText(), 'You cannot apply yet: Recertification by continuing education needs at least 60 points; 35 given.')
  // A page left open from before (or a form sent without the button): the server refuses it in the rules' words.
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/apply"]').evaluate((form: HTMLFormElement) => { form.submit() })])
  t.match(await page.locator('.form-errors').innerText(), 'Recertification by continuing education needs at least 60 points; 35 given.')
  t.equal((await app.sql`select 1 from recertification_applications`).length, 0, 'nothing applied')

  // 4. More: a baked badge image of a CE credential from the approved provider.
  const pharmacology = await signCredential(completedCourse(approvedIssuer, 'Pharmacology refresher', 25, new Date(now.getTime() - 20 * 86400_000)), approvedKey)
  const image = bakePng(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><circle cx="48" cy="48" r="44" fill="#2a6"/></svg>'), JSON.stringify(pharmacology))
  await page.getByLabel('Or choose its badge image (PNG or SVG)').setInputFiles({ name: 'pharmacology.png', mimeType: 'image/png', buffer: image })
  await page.getByRole('button', { name: 'Add the credential' }).click()
  t.match(await page.locator('.notice').innerText(), 'Added "Pharmacology refresher" from Midwest Allied Health CE (AAMA-approved) (25 points, approved).')
  t.match(await page.locator('.ce-summary').innerText(), '60 of 60 points, 45 of 30 approved')
  t.notOk(await apply.isDisabled(), 'Apply is enabled once the rules are met')
  await page.screenshot({ path: path.join(shots, 'continuing-education.png'), fullPage: true })

  await apply.click()
  t.match(await page.locator('.notice').innerText(), 'Your application was sent (60 points, 45 approved).')
  t.match(await page.locator('#apply-heading + p').innerText(), /^Your application of .+ \(60 points, 45 approved\) is waiting for staff review\.$/)
  t.equal(await page.getByText('counted by your application').count(), 4, 'the four activities are frozen')

  // Staff approve over the API.
  const queue = await app.app.inject({ url: '/api/v1/recertification-applications?state=pending', headers: app.auth })
  t.equal(queue.statusCode, 200, queue.body)
  const [application] = queue.json().items as Json[]
  const approved = await app.app.inject({ method: 'POST', url: `/api/v1/recertification-applications/${application?.id as string}/approve`, headers: app.auth, payload: {} })
  t.equal(approved.statusCode, 200, approved.body)
  const renewed = approved.json().credential as { version: number, validUntil: string }
  t.equal(renewed.version, 2)
  t.equal(renewed.validUntil, new Date(Date.UTC(new Date(oldValidUntil).getUTCFullYear() + 5, new Date(oldValidUntil).getUTCMonth(), new Date(oldValidUntil).getUTCDate())).toISOString().replace('.000Z', 'Z'), 'five more years from the old end: no time lost')

  // The badge page (the credential URL) shows the new period.
  await page.goto(local(badge.url))
  t.match(await page.locator('.facts').innerText(), `Valid until\n${longDate(renewed.validUntil) ?? ''}`)
  await page.goto(`${address}/account/badges/${badge.id}/continuing-education`)
  t.match(await page.locator('#apply-heading ~ p').first().innerText(), /was approved on .+: your badge was renewed \(version 2\)/)

  // And the holder's inbox has the "renewed" email.
  const mail = await waitFor('the renewed email', () => smtp.messages.find((m) => m.envelopeTo.includes('jane@example.org') && /renewed/.test(m.subject ?? '')))
  t.equal(mail.subject, `Your CMA (AAMA) badge is renewed until ${longDate(renewed.validUntil) ?? ''}`)
  t.match(mail.text, badge.url, 'the same URL')
})
