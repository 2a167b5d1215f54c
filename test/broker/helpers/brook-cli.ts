// Runs the brook CLI straight from the TypeScript sources (node --import tsx), so that the broker
// tests need no `npm run build`.
import { main } from '../../../src/cli/main.js';

// A test process killed by the runner's timeout cannot stop what it started: a broker or job
// started through this helper stops itself (SIGTERM, then a hard exit) once its parent is gone,
// so no orphan outlives the test run.
const parent = process.ppid;
const watchdog = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watchdog);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), 10_000).unref();
}, 1000);
watchdog.unref();

await main(process.argv);
