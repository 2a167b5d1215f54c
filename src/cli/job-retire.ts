/**
 * `--retire-old` of `brook job reprocess`: once the new version serves, the old one is stopped
 * and its outputs deleted. The alias record that switched carries `retire: [old id]`; every
 * container of the old version started by `brook job run` reads it and shuts down cleanly
 * (src/cli/job-alias-watch.ts). This waits for the old group to have no members, then deletes
 * its committed offsets, its output, repartition and changelog topics, and its local state under
 * this command's `--state-dir`. Nothing is deleted while an old container still runs.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Admin, KafkaError } from '../client/index.js';
import { ErrorCode } from '../protocol/errors.js';

/** What to retire. */
export interface RetireOptions {
  readonly bootstrapServers: string;
  /** The old version's job id (its group, changelog prefix and state folder). */
  readonly jobId: string;
  /** Its output topics, repartition topics and changelogs. */
  readonly topics: readonly string[];
  /** Topics never deleted (the new version's inputs and outputs). */
  readonly keep: ReadonlySet<string>;
  readonly stateDir: string;
  readonly say: (line: string) => void;
  /** How long to wait for the old containers to stop (default 60 s). */
  readonly timeoutMs?: number;
}

/** Waits until `group` has no members; false on timeout. */
async function waitForEmptyGroup(admin: Admin, group: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const description = await admin.describeGroup(group);
      if (description.members.length === 0) return true;
    } catch (error) {
      if (!(error instanceof KafkaError)) throw error;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stops waiting for and deletes the old version; true when it is gone. */
export async function retireVersion(o: RetireOptions): Promise<boolean> {
  const admin = new Admin({ bootstrapServers: o.bootstrapServers });
  try {
    o.say(`retiring ${o.jobId}: waiting for its containers to stop`);
    if (!(await waitForEmptyGroup(admin, o.jobId, o.timeoutMs ?? 60_000))) {
      o.say(
        `not retired: group ${o.jobId} still has members (containers not run by brook job run?); stop them and delete its topics by hand`,
      );
      return false;
    }
    try {
      await admin.deleteGroups([o.jobId]);
      o.say(`retired: deleted the committed offsets of group ${o.jobId}`);
    } catch (error) {
      if (!(error instanceof KafkaError && error.code === ErrorCode.GROUP_ID_NOT_FOUND))
        throw error;
    }
    const existing = new Set(await admin.listTopics());
    const doomed = [...new Set(o.topics)].filter((t) => existing.has(t) && !o.keep.has(t));
    if (doomed.length > 0) {
      await admin.deleteTopics(doomed);
      o.say(`retired: deleted topics ${doomed.join(', ')}`);
    }
    if (o.jobId !== '.' && o.jobId !== '..' && !o.jobId.includes('/')) {
      await rm(join(o.stateDir, o.jobId), { recursive: true, force: true });
    }
    o.say(`retired: ${o.jobId}`);
    return true;
  } finally {
    await admin.close();
  }
}
