import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import tap, { type Test, type TestOpts } from 'tap'

/**
 * The programs the browser and PDF tests drive, from Debian packages: Chromium
 * (through playwright-core, never a downloaded browser) and poppler-utils.
 * In CI (CI set, or REQUIRE_BROWSER=1, which .ci/run exports) a missing one
 * fails the tests that need it, naming the package; elsewhere those tests
 * are skipped with the same message, so a laptop without them still runs
 * the rest.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const set = (value: string | undefined): boolean => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false'
/** Missing tools fail instead of skipping. */
export const TOOLS_REQUIRED = set(process.env.CI) || set(process.env.REQUIRE_BROWSER)

export type Tool = 'chromium' | 'pdftoppm' | 'pdftotext'

const runs = (command: string): boolean => {
  try {
    execFileSync(command, ['-v'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const found = new Map<Tool, boolean>()
/** Why `tool` cannot be used here, or undefined when it can. */
export function missing (tool: Tool): string | undefined {
  if (!found.has(tool)) found.set(tool, tool === 'chromium' ? existsSync(CHROMIUM) : runs(tool))
  if (found.get(tool) === true) return undefined
  return tool === 'chromium'
    ? `no Chromium at ${CHROMIUM} (Debian package "chromium"; .ci/run installs it, or set CHROMIUM_PATH)`
    : `${tool} is not installed (Debian package "poppler-utils"; .ci/run installs it)`
}

const whyMissing = (tools: readonly Tool[]): string[] => tools.flatMap((tool) => missing(tool) ?? [])

/**
 * `t.test` for a test that needs `tools`: run when they are all here;
 * otherwise a failure naming what is missing in CI, a skip saying so elsewhere.
 */
export function testNeeding (tools: readonly Tool[], name: string, options: TestOpts, fn: (t: Test) => Promise<void>): void {
  const why = whyMissing(tools)
  if (why.length === 0) {
    void tap.test(name, options, fn)
  } else if (TOOLS_REQUIRED) {
    void tap.test(name, options, async (t) => { for (const reason of why) t.fail(`${reason}: required here (CI or REQUIRE_BROWSER=1)`) })
  } else {
    void tap.test(name, { ...options, skip: why.join('; ') }, fn)
  }
}

/**
 * Inside a test, for a part that needs `tool`: true when it is here;
 * otherwise false after a failure (CI) or a comment (elsewhere) saying why.
 */
export function partNeeding (t: Test, tool: Tool): boolean {
  const why = missing(tool)
  if (why === undefined) return true
  if (TOOLS_REQUIRED) t.fail(`${why}: required here (CI or REQUIRE_BROWSER=1)`)
  else t.comment(`${why}: this part is left out`)
  return false
}
