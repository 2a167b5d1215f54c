/** Polls `pred` until it holds; throws naming `what` once `ms` passed. */
export async function until(
  pred: () => boolean | Promise<boolean>,
  what: string,
  ms = 30000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
