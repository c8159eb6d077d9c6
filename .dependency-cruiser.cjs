/**
 * bloomsight's layering, as rules (docs/architecture.md explains them). `npm run lint:deps` checks
 * them; test/layering.test.ts runs the same check in `npm test`, so CI fails on a broken rule.
 *
 *   workflows/ -> (activity types only) -> activities/ -> library folders -> storage, platform
 *   workers/, cli/, services/, bench/, scripts/, test/ sit outside and may use anything.
 */
const LIBRARY = '^(imaging|model|sources|video|storage|report|platform|apply|camera)/';
const OUTER = '^(workflows|activities|workers|cli|services|bench|scripts|test)/';
const BROWSER = '^camera/(page|worker|shared)/';
const HEAVY = 'node_modules/(@tensorflow|onnxruntime-node|sharp|minio)/';
/** What only Node can run (the browser build of @tensorflow/tfjs and onnxruntime-web are fine). */
const NODE_ONLY = 'node_modules/(@tensorflow/tfjs-node|onnxruntime-node|sharp|minio)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes load order matter and layers meaningless: move the shared piece down.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'library-stays-below',
      severity: 'error',
      comment: 'Library code knows nothing of workflows, activities, workers, the CLI or the dev services.',
      from: { path: LIBRARY },
      to: { path: OUTER },
    },
    {
      name: 'library-knows-no-temporal',
      severity: 'error',
      comment: 'Library code is testable alone: Temporal is the activities\' business.',
      from: { path: LIBRARY },
      to: { path: 'node_modules/@temporalio/' },
    },
    {
      name: 'workflows-see-activity-types-only',
      severity: 'error',
      comment: 'The workflow sandbox runs deterministic code: activities are imported as types (proxyQueue), never as code.',
      from: { path: '^workflows/' },
      // activities/errors.ts imports nothing: workflows name its classes in their retry policies.
      to: { path: '^activities/', pathNot: '^activities/errors[.]ts$' },
    },
    {
      name: 'workflows-no-node-builtins',
      severity: 'error',
      comment: 'Node built-ins are not deterministic and are refused by the workflow bundler.',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'workflows-load-nothing-heavy',
      severity: 'error',
      comment: 'Workflow code (and the schemas it validates with) must not pull TensorFlow, ONNX Runtime, sharp or the S3 client, even indirectly.',
      from: { path: '^(workflows|config)/' },
      to: { path: HEAVY, reachable: true },
    },
    {
      name: 'cpu-and-io-workers-load-no-model-runtime',
      severity: 'error',
      comment: 'The io and cpu queues run without TensorFlow or ONNX Runtime (their processes stay small).',
      from: { path: '^activities/(io|cpu)[.]ts$' },
      to: { path: 'node_modules/(@tensorflow|onnxruntime-node)/', reachable: true },
    },
    {
      name: 'browser-code-no-node',
      severity: 'error',
      comment:
        'The camera page and its worker run in a browser: no Node-only packages. (What they reach through shared library code is checked by the bundler, camera/bundle.ts, which swaps imaging/blur.ts for a browser blur and fails on any other Node-only import.)',
      from: { path: BROWSER },
      to: { path: NODE_ONLY },
    },
    {
      name: 'browser-code-no-node-builtins',
      severity: 'error',
      from: { path: BROWSER },
      to: { dependencyTypes: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(test-artifacts|bloomsight-demo|\\.bloomsight)/' },
    // Type-only imports are erased at run time: they neither load code nor make load-order cycles.
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
