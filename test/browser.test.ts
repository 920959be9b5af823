import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { accessibilityViolations, openBrowser } from './helpers/browser.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { partNeeding, testNeeding } from './helpers/system-tools.js'

/**
 * End to end in a real headless Chromium (Debian's, driven by playwright-core;
 * no browser is ever downloaded): the holder's page, the Verify control, the
 * /verify page, and axe-core accessibility checks. With
 * TESSERA_SCREENSHOTS=1 it refreshes the README's screenshots in
 * docs/screenshots/.
 */

testNeeding(['chromium'], 'a holder page, its Verify control and the /verify page in a real browser', { timeout: 120_000 }, async (t) => {
  let now = new Date('2026-11-25T12:00:00Z')
  const app = await build(t, { clock: () => now, env: { ISSUER_NAME: 'American Association of Medical Assistants' } })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } })
  const valid = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2026-03-31T00:00:00Z' })
  const expired = await issue(app, { achievementId: achievement.id, recipient: { name: 'Sam Lee', email: 'sam@example.org' }, validFrom: '2021-09-30T00:00:00Z' })
  const address = await app.app.listen({ port: 0, host: '127.0.0.1' })
  // Pages are requested at 127.0.0.1; credential ids carry the configured base URL.
  const local = (url: string): string => `${address}${new URL(url).pathname}`

  const { page, shots: SHOTS } = await openBrowser(t)

  await page.goto(local(valid.url))
  t.equal(await page.locator('.banner__label').textContent(), 'Valid')
  t.equal(await page.locator('.banner__text').textContent(), 'Valid until 31 March 2031.')
  t.equal(await page.locator('h1').textContent(), 'CMA (AAMA)')
  t.notOk(await page.locator('.checks').isVisible(), 'the checks are folded away')
  await page.getByText('Verify: show each check').click()
  t.ok(await page.locator('.checks').isVisible(), 'clicking Verify shows each check')
  t.match(await page.locator('.checks').innerText(), /Digital signature: Passed/)
  t.match(await page.locator('.checks').innerText(), /Revocation status: Passed/)
  t.same(await accessibilityViolations(page), [], 'axe-core: no serious or critical violations on a valid page')
  await page.screenshot({ path: path.join(SHOTS, 'badge-valid.png'), fullPage: true })

  await page.goto(local(expired.url))
  t.equal(await page.locator('.banner__label').textContent(), 'Expired')
  t.equal(await page.locator('.banner__text').textContent(), 'This certification expired on 30 September 2026.')
  t.equal(await page.locator('.banner__advice').textContent(), 'It can still be renewed by continuing education until 30 December 2026; after that, only by passing the certification exam again.')
  t.same(await accessibilityViolations(page), [], 'axe-core: no serious or critical violations on an expired page')
  await page.screenshot({ path: path.join(SHOTS, 'badge-expired.png'), fullPage: true })

  await page.goto(`${address}/verify`)
  t.same(await accessibilityViolations(page), [], 'axe-core: the /verify form')
  await page.getByLabel('Credential link, JSON or JWT').fill(JSON.stringify(valid.credential))
  await page.getByRole('button', { name: 'Verify' }).click()
  await page.waitForURL(`${address}/verify`)
  t.equal(await page.locator('.banner__text').textContent(), 'Valid until 31 March 2031.')
  t.match(await page.locator('.checks').innerText(), /Digital signature: Passed/, 'the checks are open on the result')
  t.same(await accessibilityViolations(page), [], 'axe-core: a /verify result')

  await page.goto(`${address}/verify`)
  await page.getByLabel('Credential link, JSON or JWT').fill(expired.jwt)
  await page.getByRole('button', { name: 'Verify' }).click()
  t.equal(await page.locator('.banner__label').textContent(), 'Expired', 'a pasted VC-JWT')

  // The keyboard reaches the skip link first, then the page's controls.
  await page.goto(local(valid.url))
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to main content')

  // The wallet card, as printed (rendered by poppler: required in CI).
  now = new Date('2026-11-25T12:00:00Z')
  const card = await app.app.inject({ method: 'GET', url: `${new URL(valid.url).pathname}/wallet-card.pdf` })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-card-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(path.join(dir, 'card.pdf'), card.rawPayload)
  if (partNeeding(t, 'pdftoppm')) {
    execFileSync('pdftoppm', ['-png', '-r', '200', '-singlefile', path.join(dir, 'card.pdf'), path.join(SHOTS, 'wallet-card')])
    t.ok(existsSync(path.join(SHOTS, 'wallet-card.png')), 'wallet card rendered')
  }
})
