// `npm test`, what CI runs: the build (jsii, then the handler bundle) and the type-check side by side, since
// neither reads what the other writes and each keeps one core busy, then every jest suite against the build.
// Arguments go to jest: `npm test -- test/e2e.test.ts`. A script rather than a command line, so that it runs alike
// in every shell.
import { spawn } from 'child_process';

const npm = (args) =>
  new Promise((resolve) => {
    spawn('npm', args, { stdio: 'inherit', shell: process.platform === 'win32' }).on('close', (code) => resolve(code ?? 1));
  });

const [build, typecheck] = await Promise.all([npm(['run', 'build']), npm(['run', 'typecheck'])]);
if (build !== 0 || typecheck !== 0) process.exit(1);
process.exit(await npm(['exec', '--', 'jest', ...process.argv.slice(2)]));
