// How the handler is bundled: by `npm run build`, and by the benchmark for an earlier revision it compares with.
import * as fs from 'fs';
import * as path from 'path';

export const HANDLER_BUNDLE = {
  bundle: true,
  platform: 'node',
  // The function runs on Node.js 24; tests and the benchmark run the same file on the local Node.js 20.
  target: 'node20',
  format: 'cjs',
  // The SDK's ES module builds tree-shake far better: half the bytes and load time of its CommonJS builds.
  mainFields: ['module', 'main'],
  minify: true,
  // The bundled sources' only legal comments are coverage hints (`v8 ignore ... @preserve`): their licences are in
  // their packages' files, which THIRD-PARTY-NOTICES.txt beside the bundle gathers (thirdPartyNotices below).
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};

/** The file beside the bundle, in the Lambda asset and the npm package, that names what the bundle holds. */
export const NOTICES_FILE = 'THIRD-PARTY-NOTICES.txt';

const LICENCE_FILE = /^(licen[cs]e|copying)(\.(md|txt))?$/i;
const NOTICE_FILE = /^notice(\.(md|txt))?$/i;

/**
 * The third-party notices of a bundle: each package esbuild took code from (by its metafile), with its version,
 * licence and home, then each licence text once, over the packages it covers, and any NOTICE file (Apache-2.0 asks
 * that it go along). Fails for a package that says nothing of its licence.
 */
export function thirdPartyNotices(metafile, root = process.cwd(), bundle = 'the handler bundle (assets/handler/index.js)') {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    // The innermost package: node_modules/a/node_modules/@b/c/dist/x.js is @b/c, nested in a.
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) dirs.add(match[1]);
  }
  const packages = [...dirs].map((dir) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
    const files = fs.readdirSync(path.join(root, dir));
    const read = (pattern) => {
      const file = files.find((f) => pattern.test(f));
      return file === undefined ? undefined : fs.readFileSync(path.join(root, dir, file), 'utf8').replace(/\r\n/g, '\n').trim();
    };
    const licence = typeof manifest.license === 'string' ? manifest.license : manifest.license?.type;
    const text = read(LICENCE_FILE);
    if (licence === undefined && text === undefined) throw new Error(`${dir} is bundled, and says nothing of its licence`);
    const home = manifest.homepage ?? (typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url);
    return { name: manifest.name, version: manifest.version, licence: licence ?? 'see its licence text', home, text, notice: read(NOTICE_FILE) };
  });
  // By name, then version: the same package may be bundled at two versions.
  packages.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));

  const rule = '='.repeat(100);
  const out = [
    `Third-party software in ${bundle} of import-job-monitor`,
    '',
    'The bundle holds code of these packages, each under its own licence, whose text follows.',
    '',
    ...packages.map((p) => `${p.name} ${p.version} (${p.licence})${p.home ? `: ${p.home.replace(/^git\+/, '')}` : ''}`),
  ];
  const byText = new Map();
  for (const p of packages.filter((p) => p.text !== undefined)) byText.set(p.text, [...(byText.get(p.text) ?? []), p]);
  for (const [text, covered] of byText) {
    out.push('', rule, `${covered.map((p) => `${p.name} ${p.version}`).join(', ')}:`, rule, '', text);
  }
  for (const p of packages.filter((p) => p.notice !== undefined)) {
    out.push('', rule, `NOTICE of ${p.name} ${p.version}:`, rule, '', p.notice);
  }
  const bare = packages.filter((p) => p.text === undefined);
  if (bare.length > 0) {
    out.push('', rule, 'Packages that ship no licence file, under the licence their package.json names:', rule, '');
    for (const p of bare) {
      const same = packages.find((q) => q.text !== undefined && q.licence === p.licence);
      out.push(`${p.name} ${p.version}: ${p.licence}${same ? `, whose text is given above for ${same.name}` : ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}
