import { createRequire } from 'node:module'

/**
 * A faster active-context clone for jsonld 9 (jsonld.js issue #414).
 *
 * jsonld clones the active context before every change (each @context,
 * each type-scoped and property-scoped context), and its clone deep-copies
 * every term definition: for an Open Badges credential, whose contexts
 * define hundreds of terms, that copying was 29% of a Data Integrity
 * verification. A term definition is a fresh object built once by
 * createTermDefinition and never changed after it is stored (a redefinition
 * stores a new object), so a clone can share them: it copies the Map and the
 * `protected` flags, not what they point to. Everything else is as jsonld's
 * own _cloneActiveContext (lib/context.js).
 *
 * Installed by patching the `clone` of jsonld's cached initial contexts,
 * which every active context inherits. test/jsonld-clone.test.ts checks that
 * the canonical N-Quads of every fixture and of issued credentials are the
 * same with and without it. `uninstall` restores jsonld's own clone.
 *
 * It reaches into jsonld's internals, so it is written for one version:
 * package.json pins jsonld exactly, and installing refuses any other version
 * (an upgrade must re-check this file and the N-Quads test, then move both).
 */

/** The jsonld version this patch was written and checked against. */
export const PATCHED_JSONLD_VERSION = '9.0.0'

interface ActiveContext {
  mappings: Map<string, unknown>
  protected: Record<string, unknown>
  previousContext?: ActiveContext
  clone: (this: ActiveContext) => ActiveContext
  getInverse: unknown
  revertToPreviousContext: unknown
  inverse: unknown
  '@base'?: unknown
  '@language'?: unknown
  '@vocab'?: unknown
}

const require = createRequire(import.meta.url)

/** The installed jsonld's version, from its package.json. */
export function installedJsonldVersion (): string {
  return (require('jsonld/package.json') as { version: string }).version
}

/**
 * Throws unless `version` (the installed jsonld's by default) is the one the
 * patch was written for: a different jsonld could make the shared term
 * definitions change signed output silently, so the service refuses to start.
 */
export function checkJsonldVersion (version: string = installedJsonldVersion()): void {
  if (version !== PATCHED_JSONLD_VERSION) {
    throw new Error(`jsonld ${version} is installed, but src/infrastructure/jsonld/shared-term-definitions.ts patches jsonld ${PATCHED_JSONLD_VERSION} only: refusing to start. Reinstall jsonld@${PATCHED_JSONLD_VERSION} (npm ci), or re-check the patch against the new version and update PATCHED_JSONLD_VERSION.`)
  }
}

// jsonld caches one initial context per processing mode (undefined when the caller sets none).
const MODES = [undefined, 'json-ld-1.0', 'json-ld-1.1']
const originals = new Map<ActiveContext, ActiveContext['clone']>()

function cloneSharingTermDefinitions (this: ActiveContext): ActiveContext {
  const child = {
    mappings: new Map(this.mappings),
    clone: this.clone,
    inverse: null,
    getInverse: this.getInverse,
    protected: { ...this.protected },
    revertToPreviousContext: this.revertToPreviousContext
  } as ActiveContext
  if (this.previousContext !== undefined) child.previousContext = this.previousContext.clone()
  if ('@base' in this) child['@base'] = this['@base']
  if ('@language' in this) child['@language'] = this['@language']
  if ('@vocab' in this) child['@vocab'] = this['@vocab']
  return child
}

/** Installs the shared-term-definitions clone; throws on a jsonld other than PATCHED_JSONLD_VERSION. */
export function installSharedTermDefinitions (): void {
  checkJsonldVersion()
  const contextApi = require('jsonld/lib/context.js') as { getInitialContext: (options: { processingMode?: string }) => ActiveContext }
  for (const processingMode of MODES) {
    const initial = contextApi.getInitialContext(processingMode === undefined ? {} : { processingMode })
    if (!originals.has(initial)) originals.set(initial, initial.clone)
    initial.clone = cloneSharingTermDefinitions
  }
}

export function uninstallSharedTermDefinitions (): void {
  for (const [initial, clone] of originals) initial.clone = clone
  originals.clear()
}
