/** Each scenario ends by printing its figures in one greppable line. */

/** Prints `[faults] <scenario> figures {...}` (JSON) for the report and for CI logs. */
export function printFigures(scenario: string, figures: Record<string, unknown>): void {
  console.log(`[faults] ${scenario} figures ${JSON.stringify(figures)}`);
}
