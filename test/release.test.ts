/**
 * What a release needs, checked where it cannot run (only the npm registry is reachable here): the release workflow
 * read as GitHub reads it, `npm publish --dry-run` on the built package, and a CHANGELOG, a README and a version
 * that agree. docs/releasing.md says how a release is cut.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

// js-yaml 3 ships no types; this is all the suite calls of it.
const yaml: { load(text: string): unknown } = require('js-yaml');

const ROOT = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const PKG = JSON.parse(read('package.json'));
const REPOSITORY = /^git\+(https:\/\/github\.com\/[\w.-]+\/[\w.-]+?)\.git$/.exec(PKG.repository.url)?.[1];

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, string>;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly needs?: string | string[];
  readonly env?: Record<string, string>;
  readonly steps: Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly jobs: Record<string, Job>;
}

/** Each registry, the publib command for it, and the directory of dist-jsii it publishes (jsii-pacmak's layout). */
const REGISTRIES = [
  { job: 'publib-npm', dir: 'js' },
  { job: 'publib-pypi', dir: 'python' },
  { job: 'publib-maven', dir: 'java' },
  { job: 'publib-nuget', dir: 'dotnet' },
  { job: 'publib-golang', dir: 'go' },
];

describe('the release workflow', () => {
  const workflow = yaml.load(read('.github/workflows/release.yml')) as Workflow;
  const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');
  const secretsOf = (value: unknown) => [...JSON.stringify(value).matchAll(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g)].map((m) => m[1]);

  it('runs on a pushed version tag, and on nothing else', () => {
    expect(workflow.on).toEqual({ push: { tags: ['v*.*.*'] } });
  });

  it('builds, tests and packages every language once, after checking that the tag is package.json\'s version', () => {
    const building = Object.entries(workflow.jobs).filter(([, job]) => /jsii-pacmak|npm test/.test(runs(job))).map(([name]) => name);
    expect(building).toEqual(['build']);
    const steps = workflow.jobs.build.steps.map((s) => s.run ?? s.uses ?? '');
    const at = (pattern: RegExp) => steps.findIndex((s) => pattern.test(s));
    // The check compares the tag with the version package.json holds, and comes before anything is built.
    const check = at(/GITHUB_REF_NAME.*v\$version|v\$version.*GITHUB_REF_NAME/);
    expect(steps[check]).toMatch(/require\('\.\/package\.json'\)\.version/);
    expect(steps[check]).toMatch(/exit 1/);
    expect(check).toBeGreaterThan(at(/^actions\/checkout@/));
    expect(check).toBeLessThan(at(/^npm ci/));
    expect(at(/^npm ci/)).toBeLessThan(at(/^npm test$/));
    expect(at(/^npm test$/)).toBeLessThan(at(/^npx jsii-pacmak$/));
    // pacmak builds each language's package with its own toolchain.
    for (const setup of ['setup-node', 'setup-python', 'setup-java', 'setup-dotnet', 'setup-go']) expect(at(new RegExp(`^actions/${setup}@`))).toBeGreaterThanOrEqual(0);
    const upload = workflow.jobs.build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with).toMatchObject({ name: 'dist-jsii', path: PKG.jsii.outdir });
    expect(secretsOf(workflow.jobs.build)).toEqual([]);
  });

  it('publishes to the npm registry, PyPI, Maven Central, NuGet and the Go module repository with publib, each after the build, from its artifact', () => {
    const publishing = Object.entries(workflow.jobs).filter(([, job]) => /publib/.test(runs(job))).map(([name]) => name);
    expect(publishing.sort()).toEqual(REGISTRIES.map((r) => r.job).sort());
    for (const { job, dir } of REGISTRIES) {
      const steps = workflow.jobs[job].steps;
      expect({ job, needs: workflow.jobs[job].needs }).toEqual({ job, needs: 'build' });
      const download = steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
      expect({ job, with: download?.with }).toEqual({ job, with: { name: 'dist-jsii', path: 'dist-jsii' } });
      expect({ job, runs: runs(workflow.jobs[job]).trim() }).toEqual({ job, runs: `npx -p publib@0 ${job} dist-jsii/${dir}` });
    }
  });

  it('gives each secret to one publishing job only, and names only secrets docs/releasing.md documents, all of them', () => {
    const owners = new Map<string, string[]>();
    for (const [name, job] of Object.entries(workflow.jobs)) {
      for (const secret of new Set(secretsOf(job))) owners.set(secret, [...(owners.get(secret) ?? []), name]);
    }
    expect([...owners.entries()].filter(([, jobs]) => jobs.length !== 1)).toEqual([]);
    const documented = [...read('docs/releasing.md').matchAll(/^\| `(\w+)` \| ([\w-]+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries([...owners.entries()].map(([secret, jobs]) => [secret, jobs[0]])));
    // What the brief of each registry asks for, at least.
    expect([...owners.keys()]).toEqual(expect.arrayContaining(['NPM_TOKEN', 'TWINE_USERNAME', 'TWINE_PASSWORD', 'MAVEN_USERNAME', 'MAVEN_PASSWORD', 'MAVEN_GPG_PRIVATE_KEY', 'MAVEN_GPG_PRIVATE_KEY_PASSPHRASE', 'NUGET_API_KEY', 'GO_GITHUB_TOKEN']));
  });

  it('has CI run .ci/run on pull requests', () => {
    const ci = yaml.load(read('.github/workflows/ci.yml')) as Workflow;
    expect(Object.keys(ci.on)).toContain('pull_request');
    expect(Object.values(ci.jobs).map(runs)).toEqual([expect.stringMatching(/^bash \.ci\/run$/m)]);
  });
});

describe('npm publish --dry-run', () => {
  let stderr: string;
  let published: { name: string; version: string; filename: string; files: { path: string }[] };

  beforeAll(() => {
    // Scripts off: prepack would rebuild dist/ and the bundles under the other suites' feet; `npm test` built them.
    const result = spawnSync('npm', ['publish', '--dry-run', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    });
    if (result.status !== 0) throw new Error(`npm publish --dry-run failed: ${result.stderr}`);
    stderr = result.stderr;
    const json = JSON.parse(result.stdout);
    // npm 11 keys its answer by package name; npm 10 answered with the package itself.
    published = json[PKG.name] ?? json;
  }, 120_000);

  it('warns of nothing in package.json: npm corrects no field and finds every file it names', () => {
    const warnings = stderr.split('\n').filter((line) => /^npm warn/i.test(line))
      // Logging in is the workflow's (NPM_TOKEN); a dry run on a developer's machine need not be logged in.
      .filter((line) => !/requires you to be logged in/.test(line));
    expect(warnings).toEqual([]);
  });

  it('publishes the version the CHANGELOG\'s newest release is about, as the tarball the README installs', () => {
    const newest = /^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$/m.exec(read('CHANGELOG.md'))?.[1];
    expect({ name: published.name, version: published.version }).toEqual({ name: 'import-job-monitor', version: newest });
    expect(published.filename).toBe(`import-job-monitor-${newest}.tgz`);
    const tarballs = [...read('README.md').matchAll(/import-job-monitor-[\w.-]+?\.tgz/g)].map((m) => m[0]);
    expect(tarballs.length).toBeGreaterThan(0);
    expect([...new Set(tarballs)]).toEqual([published.filename]);
    // Upgrading has a section that arrives at this version.
    expect(read('docs/upgrading.md')).toMatch(new RegExp(`^## Upgrading from \\d+\\.\\d+\\.\\d+ to ${(newest ?? '').replace(/\./g, '\\.')}$`, 'm'));
  });

  it('ships the built library, its assembly, bundles and docs, and no source, test or stale build output', () => {
    const files = published.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'LICENSE', 'API.md', '.jsii', 'dist/index.js', 'dist/index.d.ts',
      'assets/handler/index.js', 'assets/handler/THIRD-PARTY-NOTICES.txt', PKG.bin['import-job-monitor'],
    ]));
    expect(files.filter((f) => !/^(dist\/.*\.(js|d\.ts)|assets\/(handler|cli)\/.*|\.jsii|API\.md|README\.md|LICENSE|package\.json)$/.test(f))).toEqual([]);
    // A dist/ file whose source is gone (a module renamed or removed since the last clean build) would be published.
    expect(files.filter((f) => f.startsWith('dist/')).filter((f) => !fs.existsSync(path.join(ROOT, 'lib', f.slice('dist/'.length).replace(/(\.d\.ts|\.js)$/, '.ts'))))).toEqual([]);
  });
});

describe('CHANGELOG.md', () => {
  const changelog = read('CHANGELOG.md');
  const headings = [...changelog.matchAll(/^## (.*)$/gm)].map((m) => m[1]);
  const releases = headings.slice(1).map((h) => /^\[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})$/.exec(h));

  it('follows Keep a Changelog: Unreleased on top, then each release as [x.y.z] - date, newest first, in its change types', () => {
    expect(changelog.split('\n')[0]).toBe('# Changelog');
    expect(headings[0]).toBe('[Unreleased]');
    expect(headings.slice(1).filter((_, i) => releases[i] === null)).toEqual([]);
    const versions = releases.map((m) => m!.slice(1, 4).map(Number));
    const dates = releases.map((m) => m![4]);
    const newerFirst = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
    expect(versions).toEqual([...versions].sort((a, b) => newerFirst(b, a)));
    expect(dates).toEqual([...dates].sort().reverse());
    for (const date of dates) expect(new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10)).toBe(date);
    const types = [...changelog.matchAll(/^### (.*)$/gm)].map((m) => m[1]);
    expect(types.filter((t) => !['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security'].includes(t))).toEqual([]);
    // Nothing but Keep a Changelog's levels: no other heading depth, and every release says what changed.
    expect(changelog.match(/^#{4,} /gm)).toBeNull();
    for (const section of changelog.split(/^## /m).slice(2)) expect(section).toMatch(/^### \w+\n\n- /m);
  });

  it('gives every heading a link reference: Unreleased since the newest tag, each release since the one before', () => {
    expect(REPOSITORY).toBeDefined();
    const references = Object.fromEntries([...changelog.matchAll(/^\[([^\]]+)\]: (\S+)$/gm)].map((m) => [m[1], m[2]]));
    const tags = releases.map((m) => `v${m![1]}.${m![2]}.${m![3]}`);
    const expected: Record<string, string> = { Unreleased: `${REPOSITORY}/compare/${tags[0]}...HEAD` };
    tags.forEach((tag, i) => {
      expected[tag.slice(1)] = i + 1 < tags.length ? `${REPOSITORY}/compare/${tags[i + 1]}...${tag}` : `${REPOSITORY}/releases/tag/${tag}`;
    });
    expect(references).toEqual(expected);
  });
});
