// `npm run build`, also run by prepack: compiles lib/ with jsii (dist/ and the .jsii assembly), then bundles the
// handler into one file that the construct ships as its Lambda asset, so a consumer's `cdk synth` needs neither
// esbuild nor Docker, and the CLI (`npx import-job-monitor`) into another, made of the handler's own code. A script
// rather than a command line, so that it runs alike in every shell.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import { build } from 'esbuild';
import { HANDLER_BUNDLE, NOTICES_FILE, thirdPartyNotices } from './handler-bundle.mjs';

const jsii = createRequire(import.meta.url).resolve('jsii/bin/jsii');
execFileSync(process.execPath, [jsii, '--silence-warnings=metadata/missing-dev-dependency'], {
  stdio: 'inherit',
  // jsii's banner about Node.js 20's end of life has no bearing on the build (README, "Node.js").
  env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
});

const result = await build({ ...HANDLER_BUNDLE, entryPoints: ['lambda/index.ts'], outfile: 'assets/handler/index.js' });
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`handler bundle: assets/handler/index.js, ${bytes} bytes`);
// Beside the bundle, so that it is in the Lambda asset (the whole directory) as in the npm package.
const notices = thirdPartyNotices(result.metafile);
fs.writeFileSync(`assets/handler/${NOTICES_FILE}`, notices);
console.log(`third-party notices: assets/handler/${NOTICES_FILE}, ${Buffer.byteLength(notices)} bytes`);

// The CLI, bundled as the handler is (the SDK is a dev dependency: the package installs none), runnable as a command.
const CLI = 'assets/cli/index.js';
const cli = await build({ ...HANDLER_BUNDLE, entryPoints: ['cli/index.ts'], outfile: CLI, banner: { js: '#!/usr/bin/env node' } });
fs.chmodSync(CLI, 0o755);
const cliBytes = Object.values(cli.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`cli bundle: ${CLI}, ${cliBytes} bytes`);
const cliNotices = thirdPartyNotices(cli.metafile, process.cwd(), `the command-line tool's bundle (${CLI})`);
fs.writeFileSync(`assets/cli/${NOTICES_FILE}`, cliNotices);
console.log(`third-party notices: assets/cli/${NOTICES_FILE}, ${Buffer.byteLength(cliNotices)} bytes`);
