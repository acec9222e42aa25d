// Import rules of src/ (`npm run lint:deps`, run by .ci/run). The layers are docs/architecture.md's
// "Layers", bottom first: a file may import its own folder and any folder below it, never one
// above. Data enters at the top (the gate, the operators' surfaces) and each layer hands it down
// (write path → pipeline → records → database), so a newcomer reads top to bottom.
const LAYERS = [
  'core', //         config, errors, logger, the JSON and date-time helpers every layer uses
  'db', //           connections, dialect differences, schema, migrations, threads
  'http', //         Fastify plumbing: admission, envelopes, the error handler, validation
  'openapi', //      the OpenAPI document's tables, the docs UI and the front page
  'audit', //        the audit log
  'auth', //         credentials, scopes, the subscriber directory, sessions, rate limits
  'eventlog', //     the event record: rows, bodies, types, filters, error codes
  'outbox', //       destinations and the messages an outcome's commit owes them
  'leads', //        the lead record: rows, writes, reads
  'pipeline', //     turning received events into outcomes; retention; replay of stored events
  'delivery', //     sending outbox messages: signatures, the SSRF guard, retries, attempts
  'storage', //      the write path: group commit, the storage thread, search indexing
  'provisioning', // the provisioning file and `apply`
  'metrics', //      /metrics, /healthz, /readyz
  'gate', //         the partner API: chat summaries, leads, dry runs
  'console', //      the operator console
  'admin', //        the admin API
  'cli|app\\.ts|server\\.ts', // entry points: they assemble everything and import from anywhere
];

const folder = (layer) => `^src/(${layer})(/|$)`;

/** One rule per layer: nothing it holds imports a layer above it. */
const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.split('|')[0]}`,
  comment: `${layer} is below ${LAYERS.slice(i + 1).join(', ')}: imports point down only (docs/architecture.md, "Layers")`,
  severity: 'error',
  from: { path: folder(layer) },
  to: { path: LAYERS.slice(i + 1).map(folder) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'A cycle has no top: one of its files could not be read without the others.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'layers-are-known',
      comment: 'Every folder of src/ is a layer: a new one is added to LAYERS (and to docs/architecture.md).',
      severity: 'error',
      from: { path: '^src/', pathNot: [...LAYERS.map(folder), '^src/console/static/'] },
      to: {},
    },
    {
      name: 'threads-import-what-they-run',
      comment: 'A thread entry (*.thread.ts) imports the write path and the pipeline it runs, nothing of the HTTP side.',
      severity: 'error',
      from: { path: '\\.thread\\.ts$' },
      to: { path: folder('http|openapi|provisioning|metrics|gate|console|admin') },
    },
    {
      name: 'threads-load-no-fastify',
      comment:
        'What the threads run (the layers below http, and the write path and pipeline) names Fastify only as a type: a thread never loads it.',
      severity: 'error',
      from: { path: folder('core|db|auth|audit|eventlog|leads|pipeline|storage'), pathNot: '\\.plugin\\.ts$' },
      to: { path: '^node_modules/fastify/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'console-static-stands-alone',
      comment: "The console's browser code is served as files; it imports only its own modules.",
      severity: 'error',
      from: { path: '^src/console/static/' },
      to: { pathNot: '^src/console/static/' },
    },
    {
      name: 'no-orphans',
      comment: 'A file nothing imports is dead code (entry points and thread entries excepted).',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: ['\\.d\\.ts$', '^src/(server|app)\\.ts$', '^src/cli/main\\.ts$', '\\.thread\\.ts$', '^src/console/static/'],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^src/', '^node_modules/fastify/'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
