/**
 * Installs the npm package as a consumer would get it (the `npm pack` tarball) into an empty app that has
 * only aws-cdk-lib and constructs, and synthesizes with it: no esbuild, no TypeScript, no Docker there.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

describe('the npm package', () => {
  let app: string;
  let files: string[];

  beforeAll(() => {
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', app], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    )[0];
    files = packed.files.map((f: { path: string }) => f.path);
    const modules = path.join(app, 'node_modules');
    fs.mkdirSync(path.join(modules, 'import-job-monitor'), { recursive: true });
    execFileSync('tar', ['-xzf', path.join(app, packed.filename), '-C', path.join(modules, 'import-job-monitor'), '--strip-components=1']);
    for (const dep of ['aws-cdk-lib', 'constructs']) fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(modules, dep));
  });

  afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

  it('ships the compiled library and the handler bundle, and no sources', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'assets/handler/index.js', 'package.json']));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('lambda/'))).toEqual([]);
  });

  it('synthesizes in a fresh app with only aws-cdk-lib and constructs installed', () => {
    fs.writeFileSync(
      path.join(app, 'app.js'),
      `
const { App, Stack, aws_cognito: cognito } = require('aws-cdk-lib');
const { ImportJobMonitor } = require('import-job-monitor');
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123') });
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
    expect(out).toMatchObject({ functions: 1, alarms: 3 });
    expect(out.assets).toHaveLength(1);
    const shipped = fs.statSync(path.join(app, 'cdk.out', out.assets[0], 'index.js')).size;
    expect(shipped).toBe(fs.statSync(path.join(ROOT, 'assets', 'handler', 'index.js')).size);
  });
});
