// Bundles the handler into one file that the construct ships as its Lambda asset, so a consumer's
// `cdk synth` needs neither esbuild nor Docker.
import { build } from 'esbuild';

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
