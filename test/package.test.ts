/**
 * Packs the npm package from a clean copy of the sources (no dist/, no bundle, no .jsii), as `npm pack` and
 * `npm publish` do on a fresh clone, then installs the tarball into an empty app that has only aws-cdk-lib and
 * constructs, and synthesizes with it: no esbuild, no TypeScript, no Docker there.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

describe('the npm package', () => {
  let app: string;
  let clean: string;
  let files: string[];
  let tarball: string;

  beforeAll(() => {
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
    clean = fs.mkdtempSync(path.join(os.tmpdir(), 'clean-'));
    // The files git would check out (tracked, or new and not ignored), as they are in the working tree.
    const sources = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '' && fs.existsSync(path.join(ROOT, f)));
    for (const file of sources) {
      fs.mkdirSync(path.dirname(path.join(clean, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(clean, file));
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clean, 'node_modules'));
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', app], { cwd: clean, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    // The build that prepack runs prints to the same stdout, before npm's JSON.
    const packed = JSON.parse(out.slice(out.indexOf('[\n  {')))[0];
    files = packed.files.map((f: { path: string }) => f.path);
    tarball = path.join(app, packed.filename);
    const modules = path.join(app, 'node_modules');
    fs.mkdirSync(path.join(modules, 'import-job-monitor'), { recursive: true });
    execFileSync('tar', ['-xzf', path.join(app, packed.filename), '-C', path.join(modules, 'import-job-monitor'), '--strip-components=1']);
    for (const dep of ['aws-cdk-lib', 'constructs']) fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(modules, dep));
  });

  afterAll(() => [app, clean].forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('builds on pack from a clean tree: ships the compiled library, the jsii assembly, the handler and CLI bundles, and no sources', () => {
    expect(fs.existsSync(path.join(clean, 'dist'))).toBe(true);
    expect(files).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', '.jsii', 'assets/handler/index.js', 'assets/cli/index.js', 'API.md', 'README.md', 'LICENSE', 'package.json']),
    );
    expect(files.filter((f) => f.startsWith('cli/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('lambda/'))).toEqual([]);
  });

  it('synthesizes in a fresh app with only aws-cdk-lib and constructs installed', () => {
    fs.writeFileSync(
      path.join(app, 'app.js'),
      `
const { App, Stack, aws_cognito: cognito } = require('aws-cdk-lib');
const { ImportJobMonitor, ImportJobStatus } = require('import-job-monitor');
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123') });
monitor.metricJobs(ImportJobStatus.FAILED);
monitor.metricJobs('Failed');
const assembly = app.synth();
const template = assembly.getStackByName('Consumer').template;
const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
const assets = require('fs').readdirSync('cdk.out').filter((d) => d.startsWith('asset.'));
console.log(JSON.stringify({ assets, functions: functions.length, alarms: monitor.alarms.length }));
`,
    );
    expect(() => require.resolve('esbuild', { paths: [app] })).toThrow();
    const out = JSON.parse(execFileSync(process.execPath, ['app.js'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH } }));
    // The monitor's function, and the one aws-cdk-lib's triggers run it through on deploy.
    expect(out).toMatchObject({ functions: 2, alarms: 6 });
    const bundle = fs.readFileSync(path.join(clean, 'assets', 'handler', 'index.js'));
    const shipped = out.assets.filter((a: string) => {
      const file = path.join(app, 'cdk.out', a, 'index.js');
      return fs.existsSync(file) && fs.readFileSync(file).equals(bundle);
    });
    expect(shipped).toHaveLength(1);
  });

  it('ships the third-party notices of the bundled code beside the handler, in the package and in the Lambda asset', () => {
    expect(files).toContain('assets/handler/THIRD-PARTY-NOTICES.txt');
    const notices = fs.readFileSync(path.join(app, 'node_modules', 'import-job-monitor', 'assets', 'handler', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    // Each bundled package on a line of its own, with its version and licence: the SDK's, Powertools', and the MIT code
    // the SDK bundles in.
    const named = (name: string) => new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\d+\\.\\d+\\.\\d+ \\(`, 'm');
    for (const name of ['@aws-sdk/client-cognito-identity-provider', '@aws-sdk/client-dynamodb', '@aws-lambda-powertools/metrics', '@aws-lambda-powertools/logger', 'bowser']) {
      expect(notices).toMatch(named(name));
    }
    // The licence texts themselves: Apache-2.0's, and MIT's with its copyright lines.
    expect(notices).toContain('Apache License');
    expect(notices).toContain('Permission is hereby granted, free of charge');
    expect(notices).toMatch(/^\s*Copyright .*Amazon\.com/m);
    // The command-line tool's bundle holds the SDK too: its notices ship beside it.
    expect(files).toContain('assets/cli/THIRD-PARTY-NOTICES.txt');
    const cliNotices = fs.readFileSync(path.join(app, 'node_modules', 'import-job-monitor', 'assets', 'cli', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    expect(cliNotices).toMatch(/^Third-party software in the command-line tool's bundle \(assets\/cli\/index\.js\)/);
    expect(cliNotices).toMatch(named('@aws-sdk/client-cognito-identity-provider'));

    fs.writeFileSync(
      path.join(app, 'notices.js'),
      `
const { App, Stack, aws_cognito: cognito } = require('aws-cdk-lib');
const { ImportJobMonitor } = require('import-job-monitor');
const app = new App({ outdir: 'cdk.notices.out' });
const stack = new Stack(app, 'Consumer');
new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123') });
app.synth();
`,
    );
    execFileSync(process.execPath, ['notices.js'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH } });
    // The monitor's asset: the one whose index.js is the packed bundle (aws-cdk-lib's triggers bring another).
    const bundle = fs.readFileSync(path.join(app, 'node_modules', 'import-job-monitor', 'assets', 'handler', 'index.js'));
    const handlerAssets = fs.readdirSync(path.join(app, 'cdk.notices.out'))
      .map((dir) => path.join(app, 'cdk.notices.out', dir))
      .filter((dir) => fs.existsSync(path.join(dir, 'index.js')) && fs.readFileSync(path.join(dir, 'index.js')).equals(bundle));
    expect(handlerAssets).toHaveLength(1);
    expect(fs.readFileSync(path.join(handlerAssets[0], 'THIRD-PARTY-NOTICES.txt'), 'utf8')).toBe(notices);
  });

  it('installs the CLI as a command: node_modules/.bin/import-job-monitor runs from the tarball, with nothing else installed', () => {
    const binApp = path.join(app, 'bin-app');
    fs.mkdirSync(binApp);
    // A project of its own: npm would otherwise install into the nearest folder above that has node_modules.
    fs.writeFileSync(path.join(binApp, 'package.json'), JSON.stringify({ name: 'bin-app', private: true }));
    // npm itself, as a user's `npm install` would, so that the bin link and its mode are npm's. The package has no
    // dependencies: nothing is fetched.
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', '--no-package-lock', tarball], {
      cwd: binApp,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const bin = path.join(binApp, 'node_modules', '.bin', 'import-job-monitor');
    const env = { PATH: process.env.PATH, HOME: binApp };
    expect(execFileSync(bin, ['--version'], { cwd: binApp, encoding: 'utf8', env })).toBe(`${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}\n`);
    expect(execFileSync(bin, ['--help'], { cwd: binApp, encoding: 'utf8', env })).toMatch(/^Usage: import-job-monitor status --user-pool-id <id>/);
    const bad = spawnSync(bin, ['status', '--user-pool-id', 'nope'], { cwd: binApp, encoding: 'utf8', env });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('got "nope"')]);
  });

  it('type-checks the README usage example against the packed package', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const example = /## Usage[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from 'import-job-monitor'");
    fs.writeFileSync(path.join(app, 'readme.ts'), example!);
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'commonjs', target: 'ES2020', types: [], skipLibCheck: true }, files: ['readme.ts'] }),
    );
    const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
