// How the handler is bundled: by `npm run build`, and by the benchmark for an earlier revision it compares with.
export const HANDLER_BUNDLE = {
  bundle: true,
  platform: 'node',
  // The function runs on Node.js 24; tests and the benchmark run the same file on the local Node.js 20.
  target: 'node20',
  format: 'cjs',
  // The SDK's ES module builds tree-shake far better: half the bytes and load time of its CommonJS builds.
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};
