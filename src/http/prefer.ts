import type { Config } from '../config';

/**
 * The `Prefer` request header (RFC 7240) as the job routes read it: `respond-async` (202 at
 * once) and `wait=N` (seconds the client will wait). Unknown preferences are ignored, as the
 * RFC asks; the header may repeat and each value may be quoted.
 */
export interface Preferences {
  respondAsync: boolean;
  waitS: number | null;
}

export function parsePrefer(header: string | string[] | undefined): Preferences {
  const prefs: Preferences = { respondAsync: false, waitS: null };
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const item of values.flatMap((v) => v.split(','))) {
    // A preference's own parameters follow a ';': only its name and value matter here.
    const [name, raw] = item.split(';')[0].split('=', 2).map((s) => s.trim());
    const token = name.toLowerCase();
    if (token === 'respond-async') prefs.respondAsync = true;
    const value = raw?.replace(/^"(.*)"$/, '$1');
    if (token === 'wait' && value !== undefined && /^\d+$/.test(value) && prefs.waitS === null) prefs.waitS = Number(value);
  }
  return prefs;
}

/** How long a synchronous request waits, and which of the client's preferences that applies. */
export interface SyncWait {
  ms: number;
  /** `Preference-Applied` for an answer given within the wait (null: none applied). */
  appliedSync: string | null;
  /** `Preference-Applied` for the 202 given at once or once the wait is over. */
  appliedAsync: string | null;
  /** `Prefer: respond-async` without a wait: 202 at once, as before `wait` was read. */
  immediate: boolean;
}

/** The wait: ADVPROBE_SYNC_WAIT_MS, or the client's `wait=N` where that is less. */
export function syncWait(config: Pick<Config, 'ADVPROBE_SYNC_WAIT_MS'>, header: string | string[] | undefined): SyncWait {
  const { respondAsync, waitS } = parsePrefer(header);
  const serverMs = config.ADVPROBE_SYNC_WAIT_MS;
  const clientMs = waitS === null ? null : waitS * 1000;
  const waitApplied = clientMs !== null && clientMs <= serverMs;
  const wait = waitApplied ? `wait=${waitS}` : null;
  const async = respondAsync ? 'respond-async' : null;
  return {
    ms: waitApplied ? clientMs : serverMs,
    appliedSync: wait,
    appliedAsync: [async, wait].filter((p) => p !== null).join(', ') || null,
    immediate: respondAsync && waitS === null,
  };
}
