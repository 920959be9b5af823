import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import type { Test } from 'tap'
import { CHROMIUM } from './system-tools.js'

/**
 * What the browser tests share: Debian's Chromium driven by playwright-core
 * (no browser is ever downloaded), axe-core, and the screenshots folder
 * (docs/screenshots with TESSERA_SCREENSHOTS=1, else a temporary one).
 * Tests that need Chromium are declared with system-tools.ts' testNeeding:
 * a missing browser fails them in CI.
 */

export const REFRESH_SCREENSHOTS = process.env.TESSERA_SCREENSHOTS === '1'
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** axe-core's serious and critical violations on the page (WCAG 2.x A and AA rules). */
export async function accessibilityViolations (page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE)
  const results = await page.evaluate(async () => await (window as unknown as { axe: { run: (context: Document, options: unknown) => Promise<{ violations: Array<{ id: string, impact: string, help: string, nodes: unknown[] }> }> } })
    .axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }))
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help}, ${v.nodes.length} node(s)`)
}

/**
 * A headless Chromium and one page, closed in teardown, and the folder
 * screenshots go to. bypassCSP only so that axe-core can be injected: the
 * pages themselves run no script.
 */
export async function openBrowser (t: Test, options: BrowserContextOptions = {}): Promise<{ browser: Browser, context: BrowserContext, page: Page, shots: string }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(async () => { await browser.close() })
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, bypassCSP: true, ...options })
  const shots = REFRESH_SCREENSHOTS ? path.resolve('docs/screenshots') : mkdtempSync(path.join(os.tmpdir(), 'tessera-shots-'))
  mkdirSync(shots, { recursive: true })
  if (!REFRESH_SCREENSHOTS) t.teardown(() => { rmSync(shots, { recursive: true, force: true }) })
  return { browser, context, page: await context.newPage(), shots }
}
