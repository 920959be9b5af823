import { readFileSync } from 'node:fs'
import t from 'tap'
import { checkJsonldVersion, installedJsonldVersion, PATCHED_JSONLD_VERSION } from '../src/infrastructure/jsonld/shared-term-definitions.js'

// The shared-term-definitions patch reaches into jsonld's internals: it is
// written for one version, which package.json pins exactly.

t.test('package.json pins jsonld exactly to the version the patch was written for', async (t) => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
  t.equal(manifest.dependencies.jsonld, PATCHED_JSONLD_VERSION, 'no range: an upgrade is a deliberate change')
  t.equal(installedJsonldVersion(), PATCHED_JSONLD_VERSION, 'and that is the version installed')
  t.doesNotThrow(() => { checkJsonldVersion() })
})

t.test('the patch refuses any other jsonld version, naming both', async (t) => {
  for (const version of ['9.0.1', '9.1.0', '8.3.3', '10.0.0']) {
    t.throws(() => { checkJsonldVersion(version) }, new RegExp(`^jsonld ${version.replace(/\./g, '\\.')} is installed, but .*patches jsonld ${PATCHED_JSONLD_VERSION.replace(/\./g, '\\.')} only: refusing to start`), version)
  }
})
