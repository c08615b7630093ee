// `npm run build`, also run by prepack: compiles lib/ with jsii (dist/ and the .jsii assembly), then bundles the
// handler into one file that the construct ships as its Lambda asset, so a consumer's `cdk synth` needs neither
// esbuild nor Docker. A script rather than a command line, so that it runs alike in every shell.
import { execFileSync } from 'child_process';
import { createRequire } from 'module';
import { build } from 'esbuild';

const jsii = createRequire(import.meta.url).resolve('jsii/bin/jsii');
execFileSync(process.execPath, [jsii, '--silence-warnings=metadata/missing-dev-dependency'], {
  stdio: 'inherit',
  // jsii's banner about Node.js 20's end of life has no bearing on the build (README, "Node.js").
  env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
});

const result = await build({
  entryPoints: ['lambda/index.ts'],
  outfile: 'assets/handler/index.js',
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
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`handler bundle: assets/handler/index.js, ${bytes} bytes`);
