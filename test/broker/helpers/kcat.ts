import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Whether the `kcat` command (Debian package kcat, librdkafka inside) is installed. */
export async function kcatInstalled(): Promise<boolean> {
  try {
    await promisify(execFile)('kcat', ['-V']);
    return true;
  } catch {
    return false;
  }
}

/** Runs kcat against the broker on 127.0.0.1:`port` with `input` on stdin; resolves with stdout. */
export async function kcat(
  port: number,
  args: string[],
  input?: string,
  timeoutMs = 60000,
): Promise<string> {
  const child = execFile('kcat', ['-b', `127.0.0.1:${port}`, ...args], { timeout: timeoutMs });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  if (input !== undefined) child.stdin?.end(input);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`kcat ${args.join(' ')} exited ${code}: ${err}`);
  return out;
}
