/**
 * Benchmarks other files provide (peers, stream processing, client comparison), loaded only when
 * their source exports what the suite calls: importing a benchmark file that does not yet guard
 * its own main() would run it, so the source is read first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Imports `bench/<file>.ts` when its source exports `name`; otherwise returns why not (a skip
 * reason).
 */
export async function importExport<T>(file: string, name: string): Promise<T | string> {
  const url = new URL(`../${file}.ts`, import.meta.url);
  const path = fileURLToPath(url);
  if (!existsSync(path)) return `bench/${file}.ts does not exist yet`;
  const source = readFileSync(path, 'utf8');
  const exported = new RegExp(
    `export\\s+(async\\s+)?(function\\*?|const|let)\\s+${name}\\b|export\\s*\\{[^}]*\\b${name}\\b`,
  );
  if (!exported.test(source)) return `bench/${file}.ts does not export ${name} yet`;
  try {
    const mod = (await import(url.href)) as Record<string, unknown>;
    const value = mod[name];
    if (value === undefined) return `bench/${file}.ts did not export ${name} when loaded`;
    return value as T;
  } catch (e) {
    return `bench/${file}.ts failed to load: ${(e as Error).message}`;
  }
}
