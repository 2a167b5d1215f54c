// Runs the brook CLI straight from the TypeScript sources (node --import tsx), so that the broker
// tests need no `npm run build`.
import { main } from '../../../src/cli/main.js';

await main(process.argv);
