/**
 * Job-title standardization with the rules v2: the same job as `job.ts` (id `job-titles`, the
 * same output names) with new rules. Deployed the Kappa way, it runs as version v2 beside the
 * live v1, from the earliest offsets into its own outputs (`standardized-titles-v2`,
 * `title-counts-v2`, group and changelogs `job-titles-v2…`), and takes over once caught up:
 *
 *   brook job reprocess examples/job-titles/job-v2.ts --version v2 --bootstrap-server localhost:9092
 *
 * (`brook job run … --version v2 --reset earliest` runs it the same way without the switch.)
 * See docs/examples.md.
 */
import { titlesApp } from './app.js';
import { RULES_V2 } from './rules.js';

export default titlesApp(RULES_V2).toJob();
