// The layering of DESIGN.md as rules `npm test` checks (npm run lint:deps): imports point inward.
//
//   src/main.ts                composition root: the only place that picks implementations
//   src/hub.ts, rooms/, src/http/, src/watch/gateway   transports: parse input, call services
//   src/services.ts            wires the use cases
//   src/<domain>/              use cases (families, location, chat, commands, calls, privacy, …)
//   src/auth, src/store, src/backplane, src/media, src/push, src/realtime   what use cases stand on
//   src/contract, src/geo, src/watch/codec                                 pure: no I/O, no upward imports
//   (src/positioning/observations.ts, the fix's cells and Wi-Fi schemas, is pure too: the fix schema uses it)
/** @type {import('dependency-cruiser').IConfiguration} */
const DOMAIN =
  '^src/(auth|backplane|calls|chat|commands|families|geo|jobs|location|media|positioning|presence|privacy|push|realtime|store|mail|contract)/';
/** Modules without I/O: the wire contract, geometry, the watch codec, and the fix's observation schemas. */
const PURE = '^src/(contract|geo|watch/codec)/|^src/positioning/observations\\.ts$';
const NODE_IO = '^(node:)?(fs|fs/promises|net|tls|http|http2|https|dgram|child_process|worker_threads|cluster)$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other cannot be understood (or tested) one at a time.',
      from: { path: '^(src|rooms)/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'rooms-only-from-hub',
      severity: 'error',
      comment: 'The Socket.IO transport is mounted by src/hub.ts and used by nothing else.',
      from: { path: '^src/', pathNot: '^src/hub\\.ts$' },
      to: { path: '^rooms/' },
    },
    {
      name: 'transports-only-from-hub-and-main',
      severity: 'error',
      comment: 'HTTP routes and the watch gateway are transports: only the hub (and main) mount them.',
      from: { path: DOMAIN },
      to: { path: '^src/(http|watch/gateway)/|^src/(hub|main|services)\\.ts$' },
    },
    {
      name: 'transports-use-services',
      severity: 'error',
      comment: 'Transports call use cases; they do not reach into the store or pick a backplane.',
      from: { path: '^(rooms|src/http|src/watch/gateway)/' },
      to: { path: '^src/store/|^src/backplane/(memory|redis)\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-main-chooses-implementations',
      severity: 'error',
      comment: 'Single node vs cluster, the push provider, the media workers: chosen once, in src/main.ts.',
      from: { path: '^(src|rooms)/', pathNot: '^src/main\\.ts$|^src/backplane/' },
      to: { path: '^src/backplane/(memory|redis)\\.ts$|^src/push/index\\.ts$' },
    },
    {
      name: 'backplane-stands-alone',
      severity: 'error',
      comment: 'The backplane knows the contract, nothing of the use cases above it.',
      from: { path: '^src/backplane/' },
      to: { path: '^(src|rooms)/', pathNot: '^src/(backplane|contract)/' },
    },
    {
      name: 'store-below-use-cases',
      severity: 'error',
      comment: 'Repositories know the schema and the contract, not the services that use them.',
      from: { path: '^src/store/' },
      to: { path: '^(src|rooms)/', pathNot: '^src/(store|contract|geo|positioning/observations)' },
    },
    {
      name: 'pure-modules-stay-pure',
      severity: 'error',
      comment: 'src/contract, src/geo and the watch codec do no I/O and import nothing above them.',
      from: { path: PURE },
      to: { path: '^(src|rooms)/', pathNot: PURE },
    },
    {
      name: 'pure-modules-no-io',
      severity: 'error',
      from: { path: PURE },
      to: { dependencyTypes: ['core'], path: NODE_IO },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
