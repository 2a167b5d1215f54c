/**
 * Job-title standardization with the rules v2: id `job-titles-v2`, outputs
 * `standardized-titles-v2` and `title-counts-v2`. Run from the earliest offsets next to the live
 * v1 job, it rebuilds every output under the new rules (Kappa reprocessing); see
 * docs/examples.md.
 *
 *   brook job run examples/job-titles/job-v2.ts --bootstrap-server localhost:9092 --reset earliest
 */
import { titlesApp } from './app.js';
import { RULES_V2 } from './rules.js';

export default titlesApp(RULES_V2, 'v2').toJob();
