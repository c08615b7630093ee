/**
 * The library as other CDK languages see it: the jsii assembly that `npm run build` writes (`.jsii`), the API
 * reference generated from it, and the Python, Java, .NET and Go sources jsii-pacmak generates from it (offline:
 * --code-only; building and publishing those packages is the release workflow's, docs/releasing.md).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const TARGETS = PKG.jsii.targets;
const STATUSES = ['CREATED', 'PENDING', 'IN_PROGRESS', 'STOPPING', 'EXPIRED', 'STOPPED', 'FAILED', 'SUCCEEDED'];

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
    expect({ name: assembly.name, version: assembly.version, license: assembly.license }).toEqual({
      name: PKG.name,
      version: PKG.version,
      license: PKG.license,
    });
  });

  it('is described by the committed API.md, as jsii-docgen generates it (run "npm run docgen" when this fails)', () => {
    const fresh = path.join(tmp, 'API.md');
    execFileSync(bin('jsii-docgen'), ['-o', fresh], { cwd: ROOT, stdio: 'ignore' });
    expect(fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8')).toEqual(fs.readFileSync(fresh, 'utf8'));
  });

  it('publishes under the names users install in each language (a change of one is a breaking change)', () => {
    expect(TARGETS).toEqual({
      python: { distName: 'import-job-monitor', module: 'import_job_monitor' },
      java: { package: JAVA_PACKAGE, maven: { groupId: 'io.github.import-job-monitor', artifactId: 'import-job-monitor' } },
      dotnet: { namespace: DOTNET_NAMESPACE, packageId: 'ImportJobMonitorLib' },
      go: { moduleName: 'github.com/import-job-monitor/import-job-monitor-go' },
    });
  });
});

describe('the sources jsii-pacmak generates for Python, Java, .NET and Go', () => {
  let out: string;
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, '.jsii'))) throw new Error('no .jsii assembly: run "npm run build" first');
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'pacmak-'));
    // One pacmak run for every language. It packs the package, and `npm pack` would run prepack: a rebuild of
    // dist/ and of the handler bundle under the feet of the other suites. The build is done already.
    execFileSync(bin('jsii-pacmak'), ['--code-only', '--targets', 'python,java,dotnet,go', '-o', out], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    });
  }, 180_000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('Python: a Python user finds the class, its props and the enum', () => {
    const module = path.join(out, 'python', 'src', 'import_job_monitor', '__init__.py');
    // Python's own parser reads the generated module and reports the signatures a user calls.
    const report = execFileSync('python3', ['-c', PYTHON_SIGNATURES, module], { encoding: 'utf8' });
    expect(JSON.parse(report)).toEqual({
      ImportJobMonitor: expect.objectContaining({
        __init__: expect.objectContaining({ positional: ['self', 'scope', 'id'], keywords: expect.arrayContaining(['user_pool', 'user_pools', 'discover_user_pools', 'monitor_name', 'schedule', 'metric_namespace', 'removal_policy']) }),
        metric_jobs: { positional: ['self', 'status'], annotation: 'ImportJobStatus', keywords: expect.arrayContaining(['period', 'statistic']) },
        metric_jobs_completed: expect.objectContaining({ annotation: 'ImportJobStatus' }),
      }),
      ImportJobMonitorProps: expect.objectContaining({ __init__: expect.objectContaining({ keywords: expect.arrayContaining(['user_pool']) }) }),
      ImportJobStatus: { members: STATUSES },
    });
  });

  it('Java: a Java user finds the class and its builder, the props and theirs, the enum and metricJobs(ImportJobStatus), in the Maven artifact package.json names', () => {
    const dir = path.join(out, 'java', 'src', 'main', 'java', ...JAVA_PACKAGE.split('.'));
    const types = javaTypes(dir);
    expect([...new Set(Object.values(types).map((t) => t.package))]).toEqual([JAVA_PACKAGE]);
    const P = JAVA_PACKAGE;
    const CW = 'software.amazon.awscdk.services.cloudwatch';
    expect(types.ImportJobMonitor.declaration).toBe('class ImportJobMonitor extends software.constructs.Construct');
    expect(types.ImportJobMonitor.members).toEqual(expect.arrayContaining([
      `ImportJobMonitor(software.constructs.Construct, java.lang.String, ${P}.ImportJobMonitorProps)`,
      `metricJobs(${P}.ImportJobStatus): ${CW}.Metric`,
      `metricJobs(${P}.ImportJobStatus, ${CW}.MetricOptions): ${CW}.Metric`,
      `metricJobsCompleted(${P}.ImportJobStatus): ${CW}.Metric`,
      `onJobStateChange(java.lang.String, ${P}.OnJobStateChangeOptions): software.amazon.awscdk.services.events.Rule`,
    ]));
    expect(types.ImportJobMonitor.builder).toEqual({
      of: `${P}.ImportJobMonitor`,
      members: expect.arrayContaining([
        'create(software.constructs.Construct, java.lang.String): Builder',
        'userPool(software.amazon.awscdk.services.cognito.IUserPool): Builder',
        'schedule(software.amazon.awscdk.Duration): Builder',
        `alarmActions(java.util.List<? extends ${CW}.IAlarmAction>): Builder`,
        `build(): ${P}.ImportJobMonitor`,
      ]),
    });
    expect(types.ImportJobMonitorProps.declaration).toBe('interface ImportJobMonitorProps extends software.amazon.jsii.JsiiSerializable');
    expect(types.ImportJobMonitorProps.builder?.members).toEqual(expect.arrayContaining([
      'userPool(software.amazon.awscdk.services.cognito.IUserPool): Builder',
      'build(): ImportJobMonitorProps',
    ]));
    expect(types.ImportJobStatus).toMatchObject({ declaration: 'enum ImportJobStatus', constants: STATUSES });

    const pom = fs.readFileSync(path.join(out, 'java', 'pom.xml'), 'utf8');
    const coordinates = (tag: string) => new RegExp(`^  <${tag}>([^<]*)</${tag}>`, 'm').exec(pom)?.[1];
    expect({ groupId: coordinates('groupId'), artifactId: coordinates('artifactId'), version: coordinates('version') }).toEqual({
      groupId: 'io.github.import-job-monitor',
      artifactId: 'import-job-monitor',
      version: PKG.version,
    });
    // What Maven Central requires of a POM besides its coordinates: a browsable project URL, a licence, a developer,
    // the source repository.
    expect(coordinates('url')).toMatch(/^https:\/\//);
    expect(pom).toMatch(/<license>\s*<name>Apache License 2\.0<\/name>/);
    expect(pom).toMatch(/<developers>\s*<developer>\s*<name>[^<]+<\/name>/);
    expect(pom).toMatch(/<scm>\s*<connection>scm:git:[^<]+<\/connection>\s*<url>[^<]+<\/url>/);
  });

  // The regexes above read what jsii-pacmak writes today; the JDK's own parser (javac's tree API, no classpath
  // needed) proves the sources are Java and that the regexes saw every type, member and constant it sees.
  const hasJava = spawnSync('java', ['-version']).status === 0;
  (hasJava ? it : it.skip)('Java: the generated sources parse with the JDK\'s parser, which finds the same types, members and constants', () => {
    const dir = path.join(out, 'java', 'src', 'main', 'java', ...JAVA_PACKAGE.split('.'));
    const parser = path.join(out, 'JavaOutline.java');
    fs.writeFileSync(parser, JAVA_OUTLINE);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.java')).map((f) => path.join(dir, f));
    const outline = JSON.parse(execFileSync('java', [parser, ...files], { encoding: 'utf8' }));
    expect(outline.errors).toEqual([]);
    const names = (members: string[]) => [...new Set(members.map((m) => m.replace(/\(.*$/, '')))].sort();
    const types = javaTypes(dir);
    for (const name of ['ImportJobMonitor', 'ImportJobMonitorProps', 'ImportJobStatus']) {
      expect({ name, kind: outline.types[name].kind, methods: outline.types[name].methods, constants: outline.types[name].constants }).toEqual({
        name,
        kind: types[name].declaration.split(' ')[0].toUpperCase(),
        methods: names(types[name].members.filter((m) => !m.startsWith(`${name}(`))),
        constants: types[name].constants,
      });
    }
    expect(outline.types['ImportJobMonitor.Builder'].methods).toEqual(names(types.ImportJobMonitor.builder!.members));
  });

  it('.NET: a C# user finds the class, the props class and interface, the enum and MetricJobs(ImportJobStatus), in the NuGet package package.json names', () => {
    const project = path.join(out, 'dotnet', 'ImportJobMonitorLib');
    const types = csharpTypes(path.join(project, DOTNET_NAMESPACE));
    expect([...new Set(Object.values(types).map((t) => t.namespace))]).toEqual([DOTNET_NAMESPACE]);
    const N = DOTNET_NAMESPACE;
    const CW = 'Amazon.CDK.AWS.CloudWatch';
    expect(types.ImportJobMonitor.declaration).toBe('class ImportJobMonitor : Constructs.Construct');
    expect(types.ImportJobMonitor.members).toEqual(expect.arrayContaining([
      `ImportJobMonitor(Constructs.Construct, string, ${N}.IImportJobMonitorProps)`,
      `MetricJobs(${N}.ImportJobStatus, ${CW}.IMetricOptions?): ${CW}.Metric`,
      `MetricJobsCompleted(${N}.ImportJobStatus, ${CW}.IMetricOptions?): ${CW}.Metric`,
      `OnJobStateChange(string, ${N}.IOnJobStateChangeOptions?): Amazon.CDK.AWS.Events.Rule`,
      `FailedJobsAlarm: ${CW}.Alarm?`,
      `Alarms: ${CW}.Alarm[]`,
    ]));
    expect(types.ImportJobMonitorProps.declaration).toBe(`class ImportJobMonitorProps : ${N}.IImportJobMonitorProps`);
    expect(types.ImportJobMonitorProps.members).toEqual(expect.arrayContaining([
      'UserPool: Amazon.CDK.AWS.Cognito.IUserPool?',
      'UserPools: Amazon.CDK.AWS.Cognito.IUserPool[]?',
      'Schedule: Amazon.CDK.Duration?',
      `AlarmActions: ${CW}.IAlarmAction[]?`,
    ]));
    expect(types.IImportJobMonitorProps.declaration).toBe('interface IImportJobMonitorProps');
    expect(types.ImportJobStatus).toMatchObject({ declaration: 'enum ImportJobStatus', constants: STATUSES });

    const csproj = fs.readFileSync(path.join(project, 'ImportJobMonitorLib.csproj'), 'utf8');
    const property = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(csproj)?.[1];
    expect({ id: property('PackageId'), version: property('PackageVersion'), licence: property('PackageLicenseExpression') }).toEqual({
      id: 'ImportJobMonitorLib',
      version: PKG.version,
      licence: PKG.license,
    });
    expect(property('ProjectUrl')).toMatch(/^https:\/\//);
  });

  it('Go: a Go user finds NewImportJobMonitor, the props struct, the enum and MetricJobs(ImportJobStatus), in the module package.json names', () => {
    const dir = path.join(out, 'go', 'importjobmonitor');
    const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
    expect(/^module (\S+)$/m.exec(read('go.mod'))?.[1]).toBe('github.com/import-job-monitor/import-job-monitor-go/importjobmonitor');
    // publib-golang tags the module's repository with this version.
    expect(read('version').trim()).toBe(PKG.version);
    expect(/^package (\w+)$/m.exec(read('ImportJobMonitor.go'))?.[1]).toBe('importjobmonitor');
    expect(/^func NewImportJobMonitor\((.*)\) ImportJobMonitor \{$/m.exec(read('ImportJobMonitor.go'))?.[1])
      .toBe('scope constructs.Construct, id *string, props *ImportJobMonitorProps');
    const monitor = /^type ImportJobMonitor interface \{\n([\s\S]*?)^\}/m.exec(read('ImportJobMonitor.go'))?.[1] ?? '';
    expect(monitor.split('\n').map((l) => l.trim()).filter((l) => /^Metric(Jobs|JobsCompleted)\(/.test(l))).toEqual([
      'MetricJobs(status ImportJobStatus, props *awscloudwatch.MetricOptions) awscloudwatch.Metric',
      'MetricJobsCompleted(status ImportJobStatus, props *awscloudwatch.MetricOptions) awscloudwatch.Metric',
    ]);
    const fields = [...read('ImportJobMonitorProps.go').matchAll(/^\t(\w+) (\S+) `field:/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(fields).toEqual(expect.arrayContaining(['UserPool awscognito.IUserPool', 'UserPools *[]awscognito.IUserPool', 'Schedule awscdk.Duration']));
    const constants = [...read('ImportJobStatus.go').matchAll(/^\tImportJobStatus_(\w+) ImportJobStatus = "(\w+)"$/gm)];
    expect(constants.map((m) => m[1])).toEqual(STATUSES);
    expect(constants.map((m) => m[2])).toEqual(STATUSES);
  });
});

const JAVA_PACKAGE = 'io.github.importjobmonitor';
const DOTNET_NAMESPACE = 'ImportJobMonitorLib';

interface GeneratedType {
  readonly package?: string;
  readonly namespace?: string;
  /** `class X extends Y`, `interface X`, `enum X`, or C#'s `class X : Y`. */
  readonly declaration: string;
  /** Members as a user calls them: `name(ParamType, ...): ReturnType`, constructors without a return type, C# properties `Name: Type`. */
  readonly members: string[];
  readonly constants: string[];
  /** Java: the nested `Builder`, what it builds and its members. */
  readonly builder?: { of: string; members: string[] };
}

/** Java types as jsii-pacmak lays them out: one top-level type per file, members 4 spaces in, the Builder's 8. */
function javaTypes(dir: string): Record<string, GeneratedType> {
  const types: Record<string, GeneratedType> = {};
  const methods = (text: string, indent: number) =>
    [...text.matchAll(new RegExp(`^ {${indent}}public (.*?)(\\w+)\\((.*)\\) \\{$`, 'gm'))].map(([, before, name, params]) => {
      const types = params === '' ? [] : params.split(/,\s*(?=final )/).map((p) => p.replace(/^final /, '').replace(/@[\w.]+ /g, '').replace(/ \w+$/, ''));
      const returns = before.replace(/@[\w.]+ /g, '').replace(/^(?:static |default |final )*/, '').trim();
      return `${name}(${types.join(', ')})${returns === '' ? '' : `: ${returns}`}`;
    });
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.java') && !f.startsWith('$'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const declaration = /^public (?:final |abstract )?((?:class|interface|enum) \w+(?: (?:extends|implements) [\w.]+)?)/m.exec(text)![1];
    const name = declaration.split(' ')[1];
    const builderAt = text.search(/^ {4}public static final class Builder /m);
    const outer = builderAt < 0 ? text : text.slice(0, builderAt);
    const enumBody = declaration.startsWith('enum') ? /^public enum \w+ \{\n([\s\S]*?)^ {4};?$/m.exec(text)?.[1] ?? outer : '';
    types[name] = {
      package: /^package ([\w.]+);$/m.exec(text)?.[1],
      declaration,
      members: methods(outer, 4),
      constants: [...enumBody.matchAll(/^ {4}([A-Z][A-Z0-9_]*)[,;]?$/gm)].map((m) => m[1]),
      builder: builderAt < 0 ? undefined : {
        of: /^ {4}public static final class Builder implements software\.amazon\.jsii\.Builder<([\w.]+)>/m.exec(text)![1],
        members: methods(text.slice(builderAt), 8),
      },
    };
  }
  return types;
}

/** C# types as jsii-pacmak lays them out: one type per file in the namespace, members 8 spaces in. */
function csharpTypes(dir: string): Record<string, GeneratedType> {
  const types: Record<string, GeneratedType> = {};
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cs'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const declared = /^ {4}public (?:sealed |abstract )?((?:class|interface|enum) \w+(?: : [\w.]+)?)/m.exec(text);
    if (!declared) continue;
    const declaration = declared[1];
    const name = declaration.split(' ')[1];
    const methods = [...text.matchAll(/^ {8}public (?:(?:virtual|static|override) )*(?:([\w.<>[\]?]+) )?(\w+)\(([^()]*)\)(?:: base\(.*\))?$/gm)].map(([, returns, method, params]) => {
      const types = params === '' ? [] : params.split(', ').map((p) => p.replace(/ = .*$/, '').replace(/ \w+$/, ''));
      return `${method}(${types.join(', ')})${returns === undefined ? '' : `: ${returns}`}`;
    });
    const properties = [...text.matchAll(/^ {8}public (?:(?:virtual|override) )*([\w.<>[\]?]+) (\w+)$/gm)].map(([, type, property]) => `${property}: ${type}`);
    types[name] = {
      namespace: /^namespace ([\w.]+)$/m.exec(text)?.[1],
      declaration,
      members: [...methods, ...properties],
      constants: declaration.startsWith('enum') ? [...text.matchAll(/^ {8}([A-Z][A-Z0-9_]*),?$/gm)].map((m) => m[1]) : [],
    };
  }
  return types;
}

/**
 * Outlines Java sources with javac's own parser (the Compiler Tree API; parsing needs no classpath): syntax errors,
 * and for each top-level and nested type its kind, its public method names (sorted, once each) and its enum constants.
 */
const JAVA_OUTLINE = `
import com.sun.source.tree.*;
import com.sun.source.util.JavacTask;
import java.util.*;
import javax.lang.model.element.Modifier;
import javax.tools.*;

public class JavaOutline {
  static String str(String s) { return "\\"" + s.replace("\\\\", "\\\\\\\\").replace("\\"", "\\\\\\"").replace("\\n", " ") + "\\""; }
  static String list(Collection<String> items) { StringJoiner j = new StringJoiner(",", "[", "]"); for (String i : items) j.add(str(i)); return j.toString(); }
  static void outline(ClassTree type, String name, StringJoiner out) {
    SortedSet<String> methods = new TreeSet<>();
    List<String> constants = new ArrayList<>();
    for (Tree member : type.getMembers()) {
      if (member instanceof MethodTree) {
        MethodTree method = (MethodTree) member;
        if (method.getModifiers().getFlags().contains(Modifier.PUBLIC) && !method.getName().contentEquals("<init>")) methods.add(method.getName().toString());
      } else if (member instanceof VariableTree && type.getKind() == Tree.Kind.ENUM && ((VariableTree) member).getInitializer() instanceof NewClassTree) {
        constants.add(((VariableTree) member).getName().toString());
      } else if (member instanceof ClassTree) {
        outline((ClassTree) member, name + "." + ((ClassTree) member).getSimpleName(), out);
      }
    }
    out.add(str(name) + ":{\\"kind\\":" + str(type.getKind().toString()) + ",\\"methods\\":" + list(methods) + ",\\"constants\\":" + list(constants) + "}");
  }
  public static void main(String[] files) throws Exception {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, null, null);
    JavacTask task = (JavacTask) javac.getTask(null, fm, diagnostics, List.of("-proc:none"), null, fm.getJavaFileObjects(files));
    StringJoiner types = new StringJoiner(",", "{", "}");
    for (CompilationUnitTree unit : task.parse()) {
      for (Tree type : unit.getTypeDecls()) if (type instanceof ClassTree) outline((ClassTree) type, ((ClassTree) type).getSimpleName().toString(), types);
    }
    List<String> errors = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) if (d.getKind() == Diagnostic.Kind.ERROR) errors.add(d.toString());
    System.out.println("{\\"types\\":" + types + ",\\"errors\\":" + list(errors) + "}");
  }
}
`;

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
