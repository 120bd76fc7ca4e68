// The process around the session: closing mid-request, a server killed mid-request, a server that floods
// stderr, binaries that cannot start or exit at once. None of these may hang.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import test from 'node:test';
import { ClientClosed, Merit, ServerExited, SpawnFailed } from '../index.js';
import {
  cleanEnv,
  freshData,
  meritBin,
  processGone,
  script,
  shellQuote,
  sleep,
  temporaryDirectory,
  within,
} from './helpers.js';

const TIMEOUT = { timeout: 30000 };

async function open(t, options = {}) {
  const fresh = freshData(t);
  const merit = await Merit.spawn({ data: fresh.data, apiKey: fresh.apiKey, env: cleanEnv(), ...options });
  t.after(() => merit.close({ timeout: 2000 }));
  return { merit, ...fresh };
}

test('closing while a request is in flight rejects it with ClientClosed and reaps the child', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  const pending = merit.people.list({});
  const closing = merit.close();
  await within(
    assert.rejects(pending, (error) => {
      assert.ok(error instanceof ClientClosed);
      assert.equal(error.code, 'client_closed');
      assert.equal(error.method, 'people.list');
      assert.match(error.message, /closed while 'people\.list' waited/);
      return true;
    }),
    5000,
    'the pending call',
  );
  assert.deepEqual(await within(closing, 10000, 'close()'), { code: 0, signal: null });
  assert.ok(processGone(merit.pid), 'the child was reaped');
});

test('closing a server that does not answer kills it after the timeout', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  process.kill(merit.pid, 'SIGSTOP'); // the request below is sent but never answered
  const pending = assert.rejects(merit.people.list({}), ClientClosed);
  await sleep(50);
  const started = Date.now();
  const status = await within(merit.close({ timeout: 500 }), 10000, 'close()');
  assert.ok(Date.now() - started < 5000, 'close() waited about its timeout');
  assert.deepEqual(status, { code: null, signal: 'SIGKILL' });
  await pending;
  assert.ok(processGone(merit.pid), 'the child was reaped');
});

test('a server killed mid-request rejects the call with ServerExited at once', TIMEOUT, async (t) => {
  const directory = temporaryDirectory(t);
  const wrapper = script(
    directory,
    'merit-noisy',
    `echo "wrapper: starting merit" >&2\nexec ${shellQuote(meritBin())} "$@"`,
  );
  const { merit } = await open(t, { bin: wrapper });
  process.kill(merit.pid, 'SIGSTOP'); // so that the call below is still waiting when the kill comes
  const exits = [];
  merit.on('exit', (status) => exits.push(status));
  const pending = merit.people.list({});
  const events = merit.events()[Symbol.asyncIterator]();
  const nextEvent = events.next();
  await sleep(50);
  const killed = Date.now();
  process.kill(merit.pid, 'SIGKILL');
  await within(
    assert.rejects(pending, (error) => {
      assert.ok(error instanceof ServerExited);
      assert.equal(error.code, 'server_exited');
      assert.equal(error.signal, 'SIGKILL');
      assert.equal(error.exitCode, null);
      assert.equal(error.method, 'people.list');
      assert.match(error.message, /killed by SIGKILL/);
      assert.match(error.message, /people\.list/);
      assert.match(error.message, /wrapper: starting merit/, 'the message quotes the stderr tail');
      assert.ok(error.stderr.includes('wrapper: starting merit'));
      return true;
    }),
    5000,
    'the pending call',
  );
  assert.ok(Date.now() - killed < 3000, 'rejected quickly');
  await assert.rejects(nextEvent, ServerExited, 'the event iterator reports the crash');
  await assert.rejects(merit.people.list({}), ServerExited, 'later calls fail at once');
  assert.deepEqual(exits, [{ code: null, signal: 'SIGKILL' }]);
  assert.deepEqual(await within(merit.close(), 5000, 'close()'), { code: null, signal: 'SIGKILL' });
  assert.ok(processGone(merit.pid));
});

test('a server that writes 10 MB to stderr still works: stderr is drained', TIMEOUT, async (t) => {
  const directory = temporaryDirectory(t);
  const wrapper = script(
    directory,
    'merit-flood',
    [
      "head -c 10000000 /dev/zero | tr '\\0' 'x' >&2",
      'echo >&2',
      'echo "flood: done" >&2',
      `exec ${shellQuote(meritBin())} "$@"`,
    ].join('\n'),
  );
  const { data, apiKey } = freshData(t);
  // MERIT_BIN, as a user would set it.
  const merit = await within(
    Merit.spawn({ data, apiKey, env: cleanEnv({ MERIT_BIN: wrapper }) }),
    20000,
    'Merit.spawn behind a stderr flood',
  );
  t.after(() => merit.close());
  const person = await merit.people.create({ name: 'Ada', email: 'ada@example.org', role: 'manager' });
  assert.equal((await merit.people.get({ id: person.id })).email, 'ada@example.org');
  const tail = merit.stderr;
  assert.ok(tail.includes('flood: done'), 'the tail keeps the last lines');
  const long = tail.find((line) => line.startsWith('xxxx'));
  assert.ok(long && long.length < 3000, 'a 10 MB line is kept truncated');
  assert.match(long, /more characters/);
  assert.deepEqual(await merit.close(), { code: 0, signal: null });
});

test('a binary that does not exist rejects with SpawnFailed', TIMEOUT, async (t) => {
  const directory = temporaryDirectory(t);
  await assert.rejects(
    Merit.spawn({ bin: join(directory, 'no-such-merit'), env: cleanEnv() }),
    (error) => {
      assert.ok(error instanceof SpawnFailed);
      assert.match(error.message, /no-such-merit/);
      assert.match(error.message, /MERIT_BIN/);
      return true;
    },
  );
});

test('a server that exits at start-up rejects spawn with ServerExited quoting its stderr', TIMEOUT, async (t) => {
  const directory = temporaryDirectory(t);
  await assert.rejects(
    within(Merit.spawn({ data: join(directory, 'empty'), env: cleanEnv() }), 10000, 'Merit.spawn'),
    (error) => {
      assert.ok(error instanceof ServerExited);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, /exited with status 1/);
      assert.match(error.message, /merit init/, 'the message says what merit said');
      return true;
    },
  );
});

test('the exit notification ends the server: later calls reject with ServerExited', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  await merit.notify('exit');
  await assert.rejects(within(merit.call('$/ping', {}), 5000, 'a call after exit'), (error) => {
    assert.ok(error instanceof ServerExited || error instanceof ClientClosed);
    return true;
  });
  assert.deepEqual(await within(merit.close(), 5000, 'close()'), { code: 0, signal: null });
});
