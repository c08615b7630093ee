// Runs the bundled handler once, as a cold Lambda invocation would: `node invoke-bundle.js <bundle>`.
// Exits 1 if the run fails. Its last stderr line reports the load time and the run's CPU time.
const loadStart = process.hrtime.bigint();
const { handler } = require(process.argv[2]);
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
const deadline = Date.now() + Number(process.env.TEST_TIMEOUT_MS || 60000);
const cpu = process.cpuUsage();
const report = () => {
  const used = process.cpuUsage(cpu);
  process.stderr.write(`\n${JSON.stringify({ loadMs, cpuMs: (used.user + used.system) / 1000 })}\n`);
};
handler({}, { getRemainingTimeInMillis: () => deadline - Date.now() }).then(report, () => {
  report();
  process.exitCode = 1;
});
