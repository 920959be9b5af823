/**
 * The layers of src/ (see README, "The design in five minutes"), enforced by
 * `npm run lint`. Each layer imports only the layers below it:
 *
 *   kernel          src/kernel           configuration, errors, time, ids, JSON, public URLs
 *   infrastructure  src/infrastructure   database, JSON-LD, signing, jobs, outbound HTTP, caches, web rendering
 *   capabilities    src/capabilities     issuers and keys, achievements, credentials, status lists, verification, ...
 *   channels        src/channels         the API, holder pages, the portal (never each other)
 *   composition     src/*.ts, src/cli    app, server, worker, CLI: wire everything
 *
 * and no folder takes part in an import cycle with another.
 */
const LAYER = {
  kernel: '^src/kernel/',
  infrastructure: '^src/infrastructure/',
  capabilities: '^src/capabilities/',
  channels: '^src/channels/'
}

module.exports = {
  forbidden: [
    {
      name: 'kernel-imports-nothing-of-ours',
      comment: 'The kernel is the bottom layer: configuration, errors, time, ids, JSON, public URLs.',
      severity: 'error',
      from: { path: LAYER.kernel },
      to: { path: '^src/', pathNot: LAYER.kernel }
    },
    {
      name: 'infrastructure-imports-only-the-kernel',
      severity: 'error',
      from: { path: LAYER.infrastructure },
      to: { path: '^src/', pathNot: [LAYER.kernel, LAYER.infrastructure] }
    },
    {
      name: 'capabilities-import-no-channel-or-composition',
      severity: 'error',
      from: { path: LAYER.capabilities },
      to: { path: '^src/', pathNot: [LAYER.kernel, LAYER.infrastructure, LAYER.capabilities] }
    },
    {
      name: 'channels-import-no-composition',
      severity: 'error',
      from: { path: LAYER.channels },
      to: { path: '^src/', pathNot: [LAYER.kernel, LAYER.infrastructure, LAYER.capabilities, LAYER.channels] }
    },
    {
      name: 'channels-never-import-each-other',
      comment: 'A channel that adds a representation registers it with the app; another channel never imports it.',
      severity: 'error',
      from: { path: '^src/channels/([^/]+)/' },
      to: { path: '^src/channels/', pathNot: '^src/channels/$1/' }
    },
    {
      name: 'no-folder-cycles',
      comment: 'No import cycle between the folders of a layer (or within one file graph).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
    exclude: { path: ['node_modules', '^dist/'] }
  }
}
