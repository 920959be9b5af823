import { readFileSync } from 'node:fs'
import path from 'node:path'
import { accessibilityViolations, openBrowser } from '../helpers/browser.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { startSmtpServer } from '../helpers/notifications.js'
import { signInLink } from '../helpers/portal.js'
import { testNeeding } from '../helpers/system-tools.js'

/**
 * The holders' portal end to end in a real headless Chromium (Debian's,
 * driven by playwright-core): ask for a link, read it from a real SMTP
 * server, sign in, see two badges, download a wallet card, request a
 * correction, which staff approve over the API; then the order form.
 * TESSERA_SCREENSHOTS=1 refreshes docs/screenshots/portal.png and order-form.png.
 */

testNeeding(['chromium'], 'a holder signs in by emailed link, sees two badges, downloads a wallet card and has a correction approved; a certificant orders a badge', { timeout: 180_000 }, async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { SMTP_URL: smtp.url, ISSUER_NAME: 'American Association of Medical Assistants' } })
  const cma = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } })
  const phlebotomy = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Phlebotomy Skills', achievementType: 'Badge', validityMonths: 24 })
  const certification = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2026-03-31T00:00:00Z' })
  await issue(app, { achievementId: phlebotomy.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const address = await app.app.listen({ port: 0, host: '127.0.0.1' })
  const local = (url: string): string => `${address}${new URL(url).pathname}${new URL(url).search}`

  const { context, page, shots: SHOTS } = await openBrowser(t, { acceptDownloads: true })

  // Ask for a link.
  await page.goto(`${address}/account`)
  t.same(await accessibilityViolations(page), [], 'axe-core: the sign-in form')
  await page.getByLabel('Email address').fill('jane@example.org')
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click()
  t.equal(await page.locator('h1').textContent(), 'Check your email')
  await app.app.background.settled()
  const mail = smtp.messages.find((m) => m.envelopeTo.includes('jane@example.org') && /\/account\/sign-in\?token=/.test(m.text ?? ''))
  t.ok(mail, 'the link arrived at the SMTP server')

  // Follow it and sign in.
  await page.goto(local(signInLink(mail?.text ?? '')))
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${address}/account`)
  t.same(await page.locator('.badge-card h2').allTextContents(), ['Phlebotomy Skills', 'CMA (AAMA)'], 'two badges, newest first')
  t.match(await page.locator('.account-bar + p').textContent(), /Signed in as jane@example.org/)
  t.same(await accessibilityViolations(page), [], 'axe-core: My badges')
  await page.screenshot({ path: path.join(SHOTS, 'portal.png'), fullPage: true })

  // Download the CMA wallet card.
  const cmaCard = page.locator('.badge-card', { has: page.locator('h2', { hasText: 'CMA (AAMA)' }) })
  const [download] = await Promise.all([page.waitForEvent('download'), cmaCard.getByRole('link', { name: 'Wallet card (PDF)' }).click()])
  t.equal(download.suggestedFilename(), `${certification.id}-wallet-card.pdf`)
  const saved = await download.path()
  t.equal(readFileSync(saved).subarray(0, 5).toString(), '%PDF-', 'a PDF')

  // Request a name correction.
  await cmaCard.getByRole('link', { name: 'Request a correction' }).click()
  t.same(await accessibilityViolations(page), [], 'axe-core: the correction form')
  await page.getByLabel('What is wrong').selectOption('name')
  await page.getByLabel('The correct value').fill('Jane Q. Smith')
  await page.getByLabel('A note for staff (optional)').fill('Married in June; marriage certificate on file.')
  await page.getByRole('button', { name: 'Send the request' }).click()
  t.match(await page.locator('.notice').textContent(), /Your correction request was sent to staff/)
  t.match(await page.locator('.requests').innerText(), /Name to "Jane Q\. Smith" .*waiting for staff/)

  // Staff approve it over the API.
  const queue = await app.app.inject({ url: '/api/v1/orders?type=correction&state=pending', headers: app.auth })
  const [request] = queue.json().items
  const approved = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${request.id}/approve`, headers: app.auth, payload: {} })
  t.equal(approved.statusCode, 200)

  await page.goto(local(certification.url))
  t.match(await page.locator('.holder').textContent(), /Jane Q\. Smith/, 'the badge page shows the corrected name')
  await page.goto(`${address}/account`)
  t.match(await page.locator('.requests').innerText(), /approved/)

  // The order form, as an existing certificant fills it in.
  const order = await context.newPage()
  await order.goto(`${address}/order`)
  t.same(await accessibilityViolations(order), [], 'axe-core: the order form')
  await order.getByLabel('Full name, as on your certificate').fill('Sam Lee')
  await order.getByLabel('Email address').fill('sam@example.org')
  await order.getByLabel('Certificate number or member id').fill('CMA-123456')
  await order.getByLabel('Date of your current certification (or recertification)').fill('2023-01-15')
  await order.getByLabel(/I agree that/).check()
  await order.screenshot({ path: path.join(SHOTS, 'order-form.png'), fullPage: true })
  await order.getByRole('button', { name: 'Send my order' }).click()
  t.match(await order.locator('h1').textContent(), /your order was received/)
  const orders = await app.app.inject({ url: '/api/v1/orders?type=badge', headers: app.auth })
  t.match(orders.json().items, [{ name: 'Sam Lee', email: 'sam@example.org', certificateNumber: 'CMA-123456', certifiedOn: '2023-01-15', state: 'pending' }])
})
