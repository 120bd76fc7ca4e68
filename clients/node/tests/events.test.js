// Server-to-client `event` notifications and the other things the real binary does not do yet (or should never
// do), against tests/fixtures/fake-merit.js, which speaks the same framing.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import test from 'node:test';
import { ClientClosed, Merit, ParseError, ServerExited } from '../index.js';
import { cleanEnv, here, sleep, within } from './helpers.js';

const TIMEOUT = { timeout: 30000 };
const fake = join(here, 'fixtures', 'fake-merit.js');

async function open(t) {
  const merit = await Merit.spawn({ bin: fake, apiKey: 'mk_fake', env: cleanEnv() });
  t.after(() => merit.close({ timeout: 2000 }));
  return merit;
}

test('event notifications reach on("event") listeners, in order, after the response', TIMEOUT, async (t) => {
  const merit = await open(t);
  const seen = [];
  let answered = false;
  merit.on('event', (event) => seen.push({ sequence: event.sequence, afterResponse: answered }));
  const emitting = merit.test.emit({ count: 3 }).then((result) => {
    answered = true;
    return result;
  });
  assert.deepEqual(await emitting, { emitted: 3 });
  await merit['$/ping']();
  assert.deepEqual(
    seen.map((entry) => entry.sequence),
    [1, 2, 3],
  );
});

test('events() is an async iterator that ends when the client closes', TIMEOUT, async (t) => {
  const merit = await open(t);
  const collected = (async () => {
    const events = [];
    for await (const event of merit.events()) events.push(event);
    return events;
  })();
  await merit.events.subscribe({}); // `events` is both the iterator and the events.* namespace
  await merit.test.emit({ count: 2 });
  await merit.notify('test.emit_only', { count: 1 });
  await merit['$/ping']();
  await merit.close();
  const events = await within(collected, 5000, 'the for await loop');
  assert.deepEqual(
    events.map((event) => [event.sequence, event.type, event.data.index]),
    [
      [1, 'test.emitted', 0],
      [2, 'test.emitted', 1],
      [3, 'test.emitted', 0],
    ],
  );
  for (const event of events) {
    assert.deepEqual(Object.keys(event).sort(), ['actor_id', 'created_at', 'data', 'id', 'sequence', 'type']);
  }
});

test('leaving a for await loop unsubscribes; two iterators each see every event', TIMEOUT, async (t) => {
  const merit = await open(t);
  const first = merit.events();
  const second = merit.events();
  await merit.test.emit({ count: 3 });
  const a = [];
  for await (const event of first) {
    a.push(event.sequence);
    if (a.length === 2) break;
  }
  assert.deepEqual(a, [1, 2]);
  assert.deepEqual(await first.next(), { value: undefined, done: true });
  const b = [];
  for (let i = 0; i < 3; i++) b.push((await second.next()).value.sequence);
  assert.deepEqual(b, [1, 2, 3]);
  await merit.close();
  assert.deepEqual(await second.next(), { value: undefined, done: true });
});

test('events in a batch come after the batch response', TIMEOUT, async (t) => {
  const merit = await open(t);
  const order = [];
  merit.on('event', (event) => order.push(`event ${event.sequence}`));
  const outcomes = merit.batch([['test.emit', { count: 2 }], ['test.echo', { x: 1 }]]).then((result) => {
    order.push('batch');
    return result;
  });
  assert.deepEqual(await outcomes, [
    { status: 'fulfilled', value: { emitted: 2 } },
    { status: 'fulfilled', value: { x: 1 } },
  ]);
  await merit['$/ping']();
  // The response's promise settles in a microtask, so the events of the same read are seen first; both happen
  // before the next response.
  assert.deepEqual(order.sort(), ['batch', 'event 1', 'event 2']);
});

test('an error answered with id null rejects the oldest unanswered request line', TIMEOUT, async (t) => {
  const merit = await open(t);
  const unreadable = merit.test.unreadable();
  const echo = merit.test.echo({ still: 'answered' });
  await assert.rejects(unreadable, (error) => {
    assert.ok(error instanceof ParseError);
    assert.equal(error.method, 'test.unreadable');
    return true;
  });
  assert.deepEqual(await echo, { still: 'answered' });
});

test('a server that exits mid-request with a status: ServerExited with the status and stderr', TIMEOUT, async (t) => {
  const merit = await open(t);
  const hanging = assert.rejects(merit.test.hang(), ServerExited);
  const crash = merit.test.crash({ code: 7 });
  await within(
    assert.rejects(crash, (error) => {
      assert.ok(error instanceof ServerExited);
      assert.equal(error.exitCode, 7);
      assert.equal(error.signal, null);
      assert.match(error.message, /exited with status 7 while 'test\.crash' waited/);
      assert.match(error.message, /crashing on purpose/);
      return true;
    }),
    5000,
    'the crashed call',
  );
  await hanging;
});

test('a request the server never answers does not stop close()', TIMEOUT, async (t) => {
  const merit = await open(t);
  const hanging = assert.rejects(merit.test.hang(), ClientClosed);
  await sleep(20);
  assert.deepEqual(await within(merit.close({ timeout: 2000 }), 5000, 'close()'), { code: 0, signal: null });
  await hanging;
});
