/**
 * A small file system for disk-full scenarios: a tmpfs with a size limit, else an ext4 image on a
 * loop device (both need root, which the tests have here and in CI). Always unmounted by
 * `cleanup`, which a test registers with `t.after` before using the mount.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFs {
  /** The mount point. */
  dir: string;
  kind: 'tmpfs' | 'loop';
  /** Unmounts (lazily if busy) and removes the mount point and any image. Idempotent. */
  cleanup(): void;
}

function run(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: `${r.error?.message ?? ''}${r.stderr ?? ''}`.trim() };
}

/**
 * Mounts a file system of `bytes` (rounded up to whole KiB) on a fresh temporary directory.
 * Throws, naming every attempt's error, when neither kind can be mounted.
 */
export function mountSmallFs(bytes: number): SmallFs {
  const dir = mkdtempSync(join(tmpdir(), 'brook-smallfs-'));
  const kib = Math.ceil(bytes / 1024);
  let mounted = false;
  let image: string | undefined;
  const cleanup = () => {
    if (mounted && !run('umount', [dir]).ok) run('umount', ['-l', dir]);
    mounted = false;
    rmSync(dir, { recursive: true, force: true });
    if (image) rmSync(image, { force: true });
  };
  const tmpfs = run('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]);
  if (tmpfs.ok) {
    mounted = true;
    return { dir, kind: 'tmpfs', cleanup };
  }
  image = `${dir}.img`;
  const steps = [
    run('truncate', ['-s', `${Math.max(kib, 1024)}k`, image]),
    run('mkfs.ext4', ['-q', '-F', image]),
    run('mount', ['-o', 'loop', image, dir]),
  ];
  const failed = steps.find((s) => !s.ok);
  if (!failed) {
    mounted = true;
    return { dir, kind: 'loop', cleanup };
  }
  cleanup();
  throw new Error(
    `cannot mount a small file system (needs root): tmpfs: ${tmpfs.err}; loop image: ${failed.err}`,
  );
}
