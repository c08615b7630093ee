/**
 * The library as other CDK languages see it: the jsii assembly that `npm run build` writes (`.jsii`), the API
 * reference generated from it, and the Python sources jsii-pacmak generates from it (offline: --code-only).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

describe('the jsii assembly', () => {
  let tmp: string;
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, '.jsii'))) throw new Error('no .jsii assembly: run "npm run build" first');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jsii-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('exports the construct, its props, the alarm options, the status enum, the event rule options and the fleet structs, and nothing internal', () => {
    const assembly = JSON.parse(fs.readFileSync(path.join(ROOT, '.jsii'), 'utf8'));
    expect(Object.keys(assembly.types).sort()).toEqual([
      'import-job-monitor.FleetMetricOptions',
      'import-job-monitor.ImportJobAlarmOptions',
      'import-job-monitor.ImportJobMonitor',
      'import-job-monitor.ImportJobMonitorProps',
      'import-job-monitor.ImportJobStatus',
      'import-job-monitor.OnJobStateChangeOptions',
      'import-job-monitor.UserPoolDiscovery',
    ]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect({ name: assembly.name, version: assembly.version, license: assembly.license }).toEqual({
      name: pkg.name,
      version: pkg.version,
      license: pkg.license,
    });
  });

  it('is described by the committed API.md, as jsii-docgen generates it (run "npm run docgen" when this fails)', () => {
    const fresh = path.join(tmp, 'API.md');
    execFileSync(bin('jsii-docgen'), ['-o', fresh], { cwd: ROOT, stdio: 'ignore' });
    expect(fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8')).toEqual(fs.readFileSync(fresh, 'utf8'));
  });

  it('generates Python sources in which a Python user finds the class, its props and the enum', () => {
    // pacmak packs the package, and `npm pack` would run prepack: a rebuild of dist/ and of the handler bundle
    // under the feet of the other suites. The build is done already.
    execFileSync(bin('jsii-pacmak'), ['--code-only', '--targets', 'python', '-o', tmp], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    });
    const module = path.join(tmp, 'python', 'src', 'import_job_monitor', '__init__.py');
    // Python's own parser reads the generated module and reports the signatures a user calls.
    const report = execFileSync('python3', ['-c', PYTHON_SIGNATURES, module], { encoding: 'utf8' });
    expect(JSON.parse(report)).toEqual({
      ImportJobMonitor: expect.objectContaining({
        __init__: expect.objectContaining({ positional: ['self', 'scope', 'id'], keywords: expect.arrayContaining(['user_pool', 'user_pools', 'discover_user_pools', 'monitor_name', 'schedule', 'metric_namespace', 'removal_policy']) }),
        metric_jobs: { positional: ['self', 'status'], annotation: 'ImportJobStatus', keywords: expect.arrayContaining(['period', 'statistic']) },
        metric_jobs_completed: expect.objectContaining({ annotation: 'ImportJobStatus' }),
      }),
      ImportJobMonitorProps: expect.objectContaining({ __init__: expect.objectContaining({ keywords: expect.arrayContaining(['user_pool']) }) }),
      ImportJobStatus: { members: ['CREATED', 'PENDING', 'IN_PROGRESS', 'STOPPING', 'EXPIRED', 'STOPPED', 'FAILED', 'SUCCEEDED'] },
    });
  });
});

const PYTHON_SIGNATURES = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
out = {}
for node in tree.body:
    if not isinstance(node, ast.ClassDef) or node.name not in ('ImportJobMonitor', 'ImportJobMonitorProps', 'ImportJobStatus'):
        continue
    if node.name == 'ImportJobStatus':
        out[node.name] = {'members': [t.id for s in node.body if isinstance(s, ast.Assign) for t in s.targets]}
        continue
    methods = {}
    for f in node.body:
        if isinstance(f, ast.FunctionDef) and f.name in ('__init__', 'metric_jobs', 'metric_jobs_completed'):
            sig = {'positional': [a.arg for a in f.args.args], 'keywords': [a.arg for a in f.args.kwonlyargs]}
            if len(f.args.args) > 1 and f.args.args[1].annotation is not None and f.name != '__init__':
                sig['annotation'] = ast.literal_eval(f.args.args[1].annotation)
            methods[f.name] = sig
    out[node.name] = methods
print(json.dumps(out))
`;
