import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Page } from 'playwright-core'
import { createStaffUser } from '../src/capabilities/staff-accounts/accounts.js'
import { submitBadgeOrder, submitCorrectionRequest } from '../src/capabilities/holders/orders.js'
import { accessibilityViolations, openBrowser } from './helpers/browser.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { testNeeding } from './helpers/system-tools.js'

/**
 * Issue 25's walk, in a real headless Chromium with Chromium's own virtual
 * WebAuthn authenticator (the DevTools protocol): a registrar enrols a
 * passkey from the link an administrator gave, signs out and in again with
 * it, finds a holder by certificate number and corrects the name; axe-core
 * checks every console page on the way; the audit trail names the registrar
 * for every action. TESSERA_SCREENSHOTS=1 refreshes docs/screenshots/console-*.png.
 *
 * A passkey is bound to a domain, never to an IP address: the app's public
 * URL is http://localhost:<port> (a secure context for the browser).
 */

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

const pdfText = async (pdf: Buffer): Promise<string> => {
  const file = path.join(os.tmpdir(), `tessera-console-${process.pid}-${Date.now()}.pdf`)
  await writeFile(file, pdf)
  return (await promisify(execFile)('pdftotext', [file, '-'])).stdout
}

testNeeding(['chromium', 'pdftoppm'], 'a registrar signs in with a passkey, finds a holder by certificate number, corrects the name, approves an order, rejects a correction request, designs the certificate and uploads a CSV; every page passes axe; every action is audited with them', { timeout: 300_000 }, async (t) => {
  const port = await freePort()
  const base = `http://localhost:${port}`
  const app = await build(t, { env: { PUBLIC_BASE_URL: base } })
  const cma = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } })
  const jane = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Asistant', email: 'jane@example.org' }, certificateNumber: 'CMA-204417' })
  const omar = await issue(app, { achievementId: cma.id, recipient: { name: 'Omar Other', email: 'omar@example.org' }, certificateNumber: 'CMA-204418' })
  const orderId = await submitBadgeOrder(app.sql, new Date(), { name: 'Sam Lee', email: 'sam@example.org', certificateNumber: 'CMA-188001', certifiedOn: '2024-03-15', note: 'Passed in March 2024' })
  const omarRequest = await submitCorrectionRequest(app.sql, new Date(), { credential: { id: omar.id, recipientName: 'Omar Other', recipientEmail: 'omar@example.org' }, field: 'name', value: 'Omar Q. Other', note: 'My middle initial' })
  const { user, enrolmentUrl } = await createStaffUser({ sql: app.sql, actor: 'cli', now: new Date(), baseUrl: base }, { email: 'rita@aama.example', name: 'Rita Registrar', role: 'registrar' })
  await app.app.listen({ port, host: '127.0.0.1' })
  // Some use to count: the holders' pages seen, a LinkedIn click, a download.
  for (const credential of [jane, omar, jane]) await fetch(`${base}/credentials/${credential.id}`, { headers: { accept: 'text/html' } })
  await fetch(`${base}/credentials/${jane.id}/share/linkedin`, { redirect: 'manual' })
  await fetch(`${base}/credentials/${jane.id}/certificate.pdf`)

  const { context, page, shots } = await openBrowser(t, { viewport: { width: 1200, height: 900 } })
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } })
  const pages: string[] = []
  const checkPage = async (name: string, target: Page = page): Promise<void> => {
    pages.push(name)
    t.same(await accessibilityViolations(target), [], `axe-core: ${name}`)
  }

  // Enrol: the link registers a passkey in the browser's authenticator and signs in.
  await page.goto(enrolmentUrl)
  await checkPage('the enrolment page')
  await page.getByRole('button', { name: 'Register a passkey' }).click()
  await page.waitForURL(`${base}/console`)
  t.match(await page.locator('.console-user').innerText(), 'Rita Registrar (Registrar)')
  await checkPage('the dashboard')
  await page.screenshot({ path: path.join(shots, 'console-dashboard.png'), fullPage: true })

  // Out, and in again with the same passkey (discoverable: no name typed).
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForURL(`${base}/console/sign-in`)
  await checkPage('the sign-in page')
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
  await page.waitForURL(`${base}/console`)

  // Find the holder by certificate number.
  await page.getByRole('link', { name: 'Search' }).click()
  await page.getByLabel('Name, email, certificate number or credential id').fill('cma-204417')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.waitForURL(/\/console\/credentials\?/)
  t.match(await page.locator('main').innerText(), '1–1 of 1')
  await checkPage('search results')
  await page.getByRole('link', { name: 'Jane Q. Asistant' }).click()
  await page.waitForURL(`${base}/console/credentials/${jane.id}`)
  await checkPage('the credential page')
  await page.screenshot({ path: path.join(shots, 'console-credential.png'), fullPage: true })

  // Correct the name: the confirmation says what will happen, then it happens.
  await page.getByLabel('Name', { exact: true }).fill('Jane Q. Assistant')
  await page.getByLabel('Note for the audit trail').first().fill('Typo in the surname')
  await page.getByRole('button', { name: 'Correct…' }).click()
  t.match(await page.locator('.confirm').innerText(), 'The name changes from “Jane Q. Asistant” to “Jane Q. Assistant”.')
  await checkPage('a confirmation')
  await page.getByRole('button', { name: 'Correct it' }).click()
  await page.waitForURL(`${base}/console/credentials/${jane.id}?done=corrected`)
  t.match(await page.locator('[role="status"]').innerText(), 'Corrected')
  t.match(await page.locator('h1').innerText(), 'Jane Q. Assistant')

  // The badge order queue: approve Sam's order, choosing the achievement and the period.
  await page.getByRole('link', { name: 'Orders' }).click()
  await checkPage('the orders queue')
  await page.screenshot({ path: path.join(shots, 'console-orders.png'), fullPage: true })
  await page.getByRole('link', { name: 'Approve the order from Sam Lee' }).click()
  await page.getByLabel('Achievement', { exact: true }).selectOption(cma.id)
  await page.getByLabel(/^Valid from/).fill('2024-03-15')
  await checkPage('an order\'s approval form')
  await page.getByRole('button', { name: 'Review before issuing' }).click()
  await checkPage('an order\'s confirmation')
  await page.getByRole('button', { name: 'Approve and issue the badge' }).click()
  await page.waitForURL(/\/console\/queues\/orders/)
  t.match(await page.locator('main').innerText(), 'No orders are waiting.')
  const [sam] = await app.sql<Array<{ state: string, result_credential_id: string }>>`select state, result_credential_id from orders where id = ${orderId}`
  t.equal(sam?.state, 'approved', 'the order is approved and its badge issued')

  // The correction queue: reject Omar's request with a reason.
  await page.getByRole('link', { name: 'Corrections' }).click()
  await checkPage('the corrections queue')
  await page.getByRole('link', { name: 'Reject the change to Omar Q. Other' }).click()
  await page.getByLabel(/^Reason/).fill('Your exam record has no middle initial; send a copy of your ID.')
  await checkPage('a rejection form')
  await page.getByRole('button', { name: 'Reject and email the reason' }).click()
  await page.waitForURL(/\/console\/queues\/corrections/)
  t.match(await page.locator('main').innerText(), 'No correction requests are waiting.')
  t.equal((await app.sql`select state from orders where id = ${'id' in omarRequest ? omarRequest.id : ''}`)[0]?.state, 'rejected')

  // The achievement's design: new wording, saved after the confirmation; the holder's certificate shows it.
  await page.getByRole('link', { name: 'Achievements' }).click()
  await checkPage('the achievements list')
  await page.getByRole('link', { name: 'CMA (AAMA)' }).first().click()
  await checkPage('an achievement')
  await page.getByRole('link', { name: 'Certificate and badge design' }).click()
  await checkPage('the design page')
  await page.getByLabel(/^Title line/).fill('Certificate of Certification')
  await page.getByLabel(/^First signatory's name/).fill('Dana Whitfield')
  await page.getByLabel(/^First signatory's title/).fill('Executive Director')
  await page.getByRole('button', { name: 'Save…' }).click()
  await checkPage('the design\'s confirmation')
  await page.getByRole('button', { name: 'Save the design' }).click()
  await page.waitForURL(/\/design/)
  await page.screenshot({ path: path.join(shots, 'console-design.png'), fullPage: true })
  const certificate = await page.request.get(`${base}/credentials/${jane.id}/certificate.pdf`)
  t.equal(certificate.status(), 200)
  const words = await pdfText(await certificate.body())
  t.match(words, 'Certificate of Certification', 'the holder\'s certificate has the new wording')
  t.match(words, 'Dana Whitfield')
  t.match(words, 'Jane Q. Assistant', 'and the corrected name')

  // A CSV with a bad row: the preview lists every row and marks the bad one; only the good rows are issued.
  await page.getByRole('link', { name: 'CSV upload' }).click()
  await checkPage('the CSV upload form')
  await page.getByLabel('Achievement', { exact: true }).selectOption(cma.id)
  await page.getByLabel('CSV file').setInputFiles({ name: 'cohort.csv', mimeType: 'text/csv', buffer: Buffer.from('name,email\nAna Ruiz,ana@example.com\nBo Lin,not-an-email\nCy Park,cy@example.com\n') })
  await page.getByRole('button', { name: 'Preview' }).click()
  await checkPage('the CSV preview')
  const preview = await page.locator('table').innerText()
  t.match(preview, /Bo Lin[\s\S]*Not issued:/, 'the bad row is marked with its reason')
  t.equal((preview.match(/Ready to issue/g) ?? []).length, 2, 'the good rows are ready')
  await page.screenshot({ path: path.join(shots, 'console-upload.png'), fullPage: true })
  await page.getByRole('button', { name: 'Issue 2 badges' }).click()
  await checkPage('the CSV results')
  const results = await page.locator('table').innerText()
  t.equal((results.match(/Issued:/g) ?? []).length, 2)
  t.equal((await app.sql`select count(*)::int as n from credentials where recipient_email in ('ana@example.com', 'cy@example.com')`)[0]!.n, 2, 'two badges issued')

  const trail = await app.sql<Array<{ actor: string, action: string }>>`select actor, action from audit_events where actor = ${`staff:${user.id}`} order by id`
  t.same(trail.map((e) => e.action), ['staff_user.passkey_registered', 'staff_user.signed_in', 'staff_user.signed_in', 'credential.corrected', 'credential.issued', 'order.approved', 'order.rejected', 'achievement_design.updated', 'credential.issued', 'credential.issued'], 'every action, with the registrar as actor')

  // The pages a registrar cannot open, as an administrator (enrolled the same way): axe on each.
  const admin = await createStaffUser({ sql: app.sql, actor: 'cli', now: new Date(), baseUrl: base }, { email: 'olive@aama.example', name: 'Olive Ops', role: 'admin' })
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.goto(admin.enrolmentUrl)
  await page.getByRole('button', { name: 'Register a passkey' }).click()
  await page.waitForURL(`${base}/console`)
  await checkPage('the dashboard (administrator)')
  for (const [name, url] of [['administration', '/console/admin'], ['staff users', '/console/admin/staff'], ['API keys', '/console/admin/keys'], ['a new API key', '/console/admin/keys/new'], ['webhooks', '/console/admin/webhooks'], ['a new webhook', '/console/admin/webhooks/new'], ['recognised issuers', '/console/admin/registry'], ['recertification applications', '/console/queues/applications'], ['a role change', `/console/admin/staff/${user.id}/role?role=viewer`], ['disabling a user', `/console/admin/staff/${user.id}/disable`]] as const) {
    await page.goto(`${base}${url}`)
    t.equal(await page.locator('h1').count(), 1, `${name}: one heading`)
    await checkPage(name)
  }
  await page.goto(`${base}/console/admin/staff`)
  await page.screenshot({ path: path.join(shots, 'console-staff.png'), fullPage: true })
  t.ok(pages.length >= 25, `axe ran on ${pages.length} console pages`)
})
