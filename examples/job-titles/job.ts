/**
 * Job-title standardization, live version (rules v1); see `app.ts` for inputs and outputs.
 *
 *   brook job run examples/job-titles/job.ts --bootstrap-server localhost:9092
 */
import { titlesApp } from './app.js';
import { RULES_V1 } from './rules.js';

export default titlesApp(RULES_V1).toJob();
