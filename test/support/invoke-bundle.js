// Runs the bundled handler once, as a cold Lambda invocation would: `node invoke-bundle.js <bundle>`.
// Exits 1 if the run fails. Its last stderr line reports the load time and the run's CPU time.
// TEST_TIMEOUT_MS is the function's remaining time; TEST_NO_CONTEXT=1 calls it without a Lambda context;
// TEST_CLOCK_OFFSET_MS moves the handler's clock ahead, as a run that much later: `new Date()` and `Date.now()`.
const offset = Number(process.env.TEST_CLOCK_OFFSET_MS || 0);
if (offset) {
  const RealDate = Date;
  global.Date = class extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  };
}
const loadStart = process.hrtime.bigint();
const { handler } = require(process.argv[2]);
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
const deadline = Date.now() + Number(process.env.TEST_TIMEOUT_MS || 60000);
const cpu = process.cpuUsage();
// The process's own peak resident memory: Linux's VmHWM. `maxRSS` of a process spawned by a large one counts the
// parent's memory at the fork (a bare Node.js spawned from a 340 MB parent reports 304 MB), so only where there is no
// /proc.
const peakKb = () => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return process.resourceUsage().maxRSS;
  }
};
const report = () => {
  const used = process.cpuUsage(cpu);
  process.stderr.write(`\n${JSON.stringify({ loadMs, cpuMs: (used.user + used.system) / 1000, maxRssMb: peakKb() / 1024 })}\n`);
};
const context = process.env.TEST_NO_CONTEXT ? undefined : { getRemainingTimeInMillis: () => deadline - Date.now() };
// TEST_EVENT is the invocation's event, e.g. EventBridge's scheduled tick; without it, {} (as the deployment run).
const event = process.env.TEST_EVENT ? JSON.parse(process.env.TEST_EVENT) : {};
handler(event, context).then(report, () => {
  report();
  process.exitCode = 1;
});
