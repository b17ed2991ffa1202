import { loadConfig } from '../../../src/config';
import { parsePrefer, syncWait } from '../../../src/http/prefer';
import { serverOptions } from '../../../src/shutdown';

describe('Prefer (RFC 7240)', () => {
  test.each([
    ['respond-async', { respondAsync: true, waitS: null }],
    ['wait=5', { respondAsync: false, waitS: 5 }],
    ['Respond-Async, WAIT="10"', { respondAsync: true, waitS: 10 }],
    ['handling=lenient; x=1, wait=3;foo', { respondAsync: false, waitS: 3 }],
    ['wait=-1, wait=abc', { respondAsync: false, waitS: null }],
    ['', { respondAsync: false, waitS: null }],
  ])('%j', (header, expected) => expect(parsePrefer(header)).toEqual(expected));

  test('repeated headers are one list', () => expect(parsePrefer(['respond-async', 'wait=2'])).toEqual({ respondAsync: true, waitS: 2 }));

  test('the wait is the lesser of the setting and the client\'s', () => {
    const config = { ADVPROBE_SYNC_WAIT_MS: 55_000 };
    expect(syncWait(config, undefined)).toMatchObject({ ms: 55_000, appliedSync: null, appliedAsync: null, immediate: false });
    expect(syncWait(config, 'wait=2')).toMatchObject({ ms: 2000, appliedSync: 'wait=2', appliedAsync: 'wait=2' });
    expect(syncWait(config, 'wait=100')).toMatchObject({ ms: 55_000, appliedSync: null });
    expect(syncWait(config, 'respond-async')).toMatchObject({ immediate: true, appliedAsync: 'respond-async' });
  });
});

describe('the server\'s socket timeouts', () => {
  test.each([300, 55_000, 120_000])('sit above a synchronous wait of %i ms', (wait) => {
    const config = loadConfig({}, { ADVPROBE_SYNC_WAIT_MS: wait });
    const options = serverOptions(config);
    expect(options.connectionTimeout).toBeGreaterThan(wait + 5000);
    expect(options.requestTimeout).toBeGreaterThan(wait + 5000);
  });
});
