// The import directions of the layout (../shared/DESIGN.md "Layout and import directions"),
// checked by dependency-cruiser. `npm run lint:deps` runs it (via .ci/lint-deps.mjs, because the
// depcruise CLI refuses Node 20; the same file works with `npx depcruise -c .dependency-cruiser.cjs .`
// on Node >= 22). A violation prints the rule, the importing file and the imported file.
//
// Type-only imports count (tsPreCompilationDeps): a type import still ties two layers together.

/** Folders whose code does I/O (store, network, scheduling, files) or drives it. */
const IO_FOLDERS =
  '^(store|consumers|jobs|alerts|server|cli|infra|deploy|experiments|review|producers|bench|test|fakes)/'
/** Packages that talk to the outside world. */
const IO_PACKAGES =
  'node_modules/(kafkajs|@clickhouse/client|chdb|node-cron|@confluentinc/schemaregistry|prom-client)/'
/** Node core modules that do I/O or touch the process. */
const IO_CORE =
  '^(node:)?(fs|fs/promises|http|https|http2|net|tls|dgram|dns|child_process|cluster|worker_threads|readline|os|process)$'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'pure-no-io',
      comment: 'stats/ and rules/ decide; they do no I/O. Pass data in, return decisions.',
      severity: 'error',
      from: { path: '^(stats|rules)/' },
      to: { path: [IO_FOLDERS, IO_PACKAGES, IO_CORE] },
    },
    {
      name: 'consumers-not-jobs-or-alerts',
      comment: 'Ingest (consumers/) never depends on jobs/ or alerts/.',
      severity: 'error',
      from: { path: '^consumers/' },
      to: { path: '^(jobs|alerts)/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ is the face: only cli/ itself, bin/ and test/ import it.',
      severity: 'error',
      from: { pathNot: '^(cli|bin|test)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'bench-not-test',
      comment: 'bench/ shares fakes with test/ through fakes/, never imports test/.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'lib-no-config',
      comment: 'lib/ (errors, log, retry, clients) imports no config: callers pass settings in.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^config/' },
    },
    {
      name: 'no-test-code-in-production',
      comment: 'test/ and fakes/ are for tests and benchmarks only.',
      severity: 'error',
      from: { pathNot: '^(test|bench|fakes)/' },
      to: { path: '^(test|fakes)/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.cache|\\.driftwatch)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
}
