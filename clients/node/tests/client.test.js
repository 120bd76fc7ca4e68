// The client against the real binary: authentication, calls, errors, name checking, batches, pipelining, notify.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import {
  AuthenticationRequired,
  ClientClosed,
  Merit,
  MeritError,
  MethodNotFound,
  NotFound,
  PermissionDenied,
  UnknownMethod,
  ValidationError,
  Conflict,
  SpawnFailed,
  errorClasses,
} from '../index.js';
import { cleanEnv, freshData, meritBin, processGone, script, shellQuote, temporaryDirectory } from './helpers.js';

const TIMEOUT = { timeout: 30000 };

/** A client on a fresh data directory, authenticated with the admin key, closed after the test. */
async function open(t, options = {}) {
  const fresh = freshData(t);
  const merit = await Merit.spawn({ data: fresh.data, apiKey: fresh.apiKey, env: cleanEnv(), ...options });
  t.after(() => merit.close());
  return { merit, ...fresh };
}

/** A wrapper around merit that copies every line the client sends into `log`. */
function recordingBin(t) {
  const directory = temporaryDirectory(t);
  const log = join(directory, 'stdin.log');
  const bin = script(directory, 'merit-tee', `tee ${shellQuote(log)} | ${shellQuote(meritBin())} "$@"`);
  return { bin, sent: () => readFileSync(log, 'utf8').split('\n').filter((line) => line !== '') };
}

test('spawn authenticates with the apiKey option', TIMEOUT, async (t) => {
  const { merit, organizationId } = await open(t);
  assert.equal(merit.session.protocol_version, '2026-11-01');
  assert.equal(merit.session.organization.id, organizationId);
  assert.equal(merit.session.principal.name, 'admin');
  assert.ok(merit.methods.includes('people.create'));
  assert.ok(merit.methods.includes('rpc.discover'));
  assert.equal(typeof merit.openrpc, 'object');
  const organization = await merit.organization.get();
  assert.equal(organization.id, organizationId);
  assert.deepEqual(await merit['$/ping'](), {});
  assert.deepEqual(await merit.close(), { code: 0, signal: null });
  assert.ok(processGone(merit.pid), 'the child was reaped');
});

test('spawn authenticates from MERIT_API_KEY and finds the data directory in MERIT_DATA', TIMEOUT, async (t) => {
  const { data, apiKey } = freshData(t);
  const merit = await Merit.spawn({ env: cleanEnv({ MERIT_DATA: data, MERIT_API_KEY: apiKey }) });
  t.after(() => merit.close());
  assert.equal(merit.session.principal.name, 'admin');
  const people = await merit.people.list({});
  assert.deepEqual(people, { data: [], next_cursor: null });
});

test('spawn rejects a bad key with AuthenticationRequired and leaves no process behind', TIMEOUT, async (t) => {
  const { data } = freshData(t);
  await assert.rejects(Merit.spawn({ data, apiKey: 'mk_not_a_real_key', env: cleanEnv() }), (error) => {
    assert.ok(error instanceof AuthenticationRequired);
    assert.equal(error.code, 'authentication_required');
    assert.equal(error.status, 401);
    return true;
  });
  await assert.rejects(
    Merit.spawn({ env: cleanEnv({ MERIT_DATA: data, MERIT_API_KEY: 'mk_not_a_real_key' }) }),
    AuthenticationRequired,
  );
});

test('without a key the session is open but unauthenticated; authenticate() logs in', TIMEOUT, async (t) => {
  const { data, apiKey } = freshData(t);
  const merit = await Merit.spawn({ data, env: cleanEnv() });
  t.after(() => merit.close());
  assert.equal(merit.session.principal, null);
  await assert.rejects(merit.people.list({}), AuthenticationRequired);
  const session = await merit.authenticate(apiKey);
  assert.equal(session.principal.name, 'admin');
  assert.equal(merit.session.principal.name, 'admin');
  assert.deepEqual((await merit.people.list({})).data, []);
});

test('people: create, get, list, update', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  const ada = await merit.people.create({ name: 'Ada Lovelace', email: 'ada@example.org', role: 'manager' });
  assert.match(ada.id, /^emp_/);
  assert.equal(ada.name, 'Ada Lovelace');
  const grace = await merit.call('people.create', {
    name: 'Grace Hopper',
    email: 'grace@example.org',
    role: 'employee',
    manager_id: ada.id,
  });
  assert.equal(grace.manager_id, ada.id);
  assert.deepEqual(await merit.people.get({ id: ada.id }), ada);
  const list = await merit.people.list({ manager_id: ada.id });
  assert.deepEqual(
    list.data.map((person) => person.email),
    ['grace@example.org'],
  );
  const updated = await merit.people.update({ id: grace.id, squad: 'compilers' });
  assert.equal(updated.squad, 'compilers');
});

test('errors: validation_error names the field, not_found, conflict, permission_denied', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  await assert.rejects(merit.people.create({ name: 'Bad', email: 'not-an-email', role: 'employee' }), (error) => {
    assert.ok(error instanceof ValidationError);
    assert.ok(error instanceof MeritError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ValidationError');
    assert.equal(error.code, 'validation_error');
    assert.equal(error.rpcCode, -32602);
    assert.equal(error.status, 400);
    assert.equal(error.method, 'people.create');
    assert.match(error.message, /email/);
    assert.deepEqual(
      error.details.map((detail) => detail.field),
      ['email'],
    );
    assert.equal(error.data.code, 'validation_error');
    assert.match(error.stack, /client\.test\.js/, 'the stack points at the call');
    return true;
  });

  const missing = 'emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ';
  await assert.rejects(merit.people.get({ id: missing }), (error) => {
    assert.ok(error instanceof NotFound);
    assert.equal(error.code, 'not_found');
    assert.equal(error.status, 404);
    assert.match(error.message, new RegExp(missing));
    return true;
  });

  await merit.people.create({ name: 'Ada', email: 'ada@example.org', role: 'manager' });
  await assert.rejects(merit.people.create({ name: 'Ada 2', email: 'ADA@example.org', role: 'manager' }), Conflict);

  const reader = await merit.keys.create({ name: 'reader', scopes: ['directory:read'] });
  assert.match(reader.key, /^mk_/);
  await merit.authenticate(reader.key);
  assert.deepEqual(merit.session.principal.scopes, ['directory:read']);
  assert.equal((await merit.people.list({})).data.length, 1);
  await assert.rejects(merit.people.create({ name: 'Eve', email: 'eve@example.org', role: 'employee' }), (error) => {
    assert.ok(error instanceof PermissionDenied);
    assert.equal(error.code, 'permission_denied');
    assert.equal(error.status, 403);
    return true;
  });
  await assert.rejects(merit.keys.list(), PermissionDenied);
});

test('every data.code has its exported class', () => {
  assert.deepEqual(Object.keys(errorClasses).sort(), [
    'authentication_required',
    'conflict',
    'internal_error',
    'invalid_request',
    'method_not_found',
    'not_found',
    'parse_error',
    'permission_denied',
    'storage_unavailable',
    'unprocessable',
    'validation_error',
  ]);
  for (const [code, Class] of Object.entries(errorClasses)) {
    assert.equal(Class.code, code);
    assert.ok(new Class('x') instanceof MeritError);
    assert.equal(new Class('x').code, code);
  }
});

test('a mistyped method name throws before anything is sent, naming close matches', TIMEOUT, async (t) => {
  const recording = recordingBin(t);
  const { merit } = await open(t, { bin: recording.bin });
  await assert.rejects(merit.peopel.list({}), (error) => {
    assert.ok(error instanceof UnknownMethod);
    assert.ok(error instanceof MethodNotFound);
    assert.equal(error.method, 'peopel.list');
    assert.deepEqual(error.suggestions, ['people.list']);
    assert.match(error.message, /peopel\.list/);
    assert.match(error.message, /Did you mean 'people\.list'\?/);
    return true;
  });
  await assert.rejects(merit.people.lsit(), { name: 'UnknownMethod', suggestions: ['people.list'] });
  await assert.rejects(merit.call('people.craete', {}), { suggestions: ['people.create'] });
  await assert.rejects(merit.notify('people.craete', {}), UnknownMethod);
  await assert.rejects(merit.batch([['$/ping'], ['templates.lst']]), (error) => {
    assert.ok(error instanceof UnknownMethod);
    assert.equal(error.suggestions[0], 'templates.list');
    return true;
  });
  await assert.rejects(merit.people(), /group of methods/);
  await assert.rejects(merit.performance.reviews.gte({ id: 'rev_x' }), (error) => {
    assert.ok(error instanceof UnknownMethod);
    assert.equal(error.suggestions[0], 'performance.reviews.get');
    return true;
  });
  assert.strictEqual(merit.events, merit.events);
  assert.equal(typeof merit.events()[Symbol.asyncIterator], 'function');
  // The server's own method_not_found, for a name sent unchecked.
  await assert.rejects(merit.call('people.nonexistent', {}, { check: false }), (error) => {
    assert.ok(error instanceof MethodNotFound);
    assert.ok(!(error instanceof UnknownMethod));
    assert.equal(error.rpcCode, -32601);
    return true;
  });
  assert.deepEqual(await merit.people.list({}), { data: [], next_cursor: null });
  await merit.close();
  const sent = recording.sent().map((line) => JSON.parse(line));
  const methods = sent.flatMap((message) => (Array.isArray(message) ? message : [message]).map((m) => m.method));
  assert.deepEqual(methods, ['initialize', 'rpc.discover', 'people.nonexistent', 'people.list', 'shutdown', 'exit']);
});

test('the client does not pass for a promise or JSON and its probes', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  assert.equal(merit.then, undefined);
  assert.equal(merit.people.then, undefined);
  assert.equal(merit.toJSON, undefined);
  assert.ok(merit instanceof Merit);
  assert.equal(typeof merit.people.create, 'function');
  assert.strictEqual(merit.people.create, merit.people.create);
});

test('batch sends one JSON array and settles each entry', TIMEOUT, async (t) => {
  const recording = recordingBin(t);
  const { merit } = await open(t, { bin: recording.bin });
  const outcomes = await merit.batch([
    ['people.create', { name: 'Ada', email: 'ada@example.org', role: 'manager' }],
    ['people.get', { id: 'emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ' }],
    { method: '$/ping', notification: true },
    { method: 'people.list', params: {} },
    ['$/ping'],
  ]);
  assert.equal(outcomes.length, 5);
  assert.equal(outcomes[0].status, 'fulfilled');
  assert.equal(outcomes[0].value.email, 'ada@example.org');
  assert.equal(outcomes[1].status, 'rejected');
  assert.ok(outcomes[1].reason instanceof NotFound);
  assert.deepEqual(outcomes[2], { status: 'fulfilled', value: undefined });
  assert.deepEqual(
    outcomes[3].value.data.map((person) => person.id),
    [outcomes[0].value.id],
  );
  assert.deepEqual(outcomes[4], { status: 'fulfilled', value: {} });
  assert.deepEqual(await merit.batch([]), []);
  assert.deepEqual(await merit.batch([{ method: '$/ping', notification: true }]), [
    { status: 'fulfilled', value: undefined },
  ]);
  assert.deepEqual(await merit['$/ping'](), {});
  await merit.close();
  const batches = recording.sent().filter((line) => line.startsWith('['));
  assert.equal(batches.length, 2);
  const first = JSON.parse(batches[0]);
  assert.equal(first.length, 5);
  assert.ok(!('id' in first[2]), 'the notification has no id');
  assert.equal(new Set(first.filter((m) => 'id' in m).map((m) => m.id)).size, 4);
});

test('100 concurrent calls are pipelined and each gets its own answer', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  const emails = Array.from({ length: 100 }, (_, i) => `person${i}@example.org`);
  const created = await Promise.all(
    emails.map((email, i) => merit.people.create({ name: `Person ${i}`, email, role: 'employee' })),
  );
  assert.deepEqual(
    created.map((person) => person.email),
    emails,
  );
  assert.equal(new Set(created.map((person) => person.id)).size, 100);
  // Reads and failures interleaved, all in flight at once.
  const mixed = await Promise.allSettled(
    created.map((person, i) => (i % 10 === 0 ? merit.people.get({ id: 'bad' }) : merit.people.get({ id: person.id }))),
  );
  mixed.forEach((outcome, i) => {
    if (i % 10 === 0) assert.ok(outcome.reason instanceof ValidationError);
    else assert.equal(outcome.value.id, created[i].id);
  });
  const page = await merit.people.list({ limit: 100 });
  assert.equal(page.data.length, 100);
});

test('notify sends a request without an id that is never answered', TIMEOUT, async (t) => {
  const recording = recordingBin(t);
  const { merit } = await open(t, { bin: recording.bin });
  await merit.notify('people.create', { name: 'Ada', email: 'ada@example.org', role: 'manager' });
  await merit.notify('people.create', { name: 'Bad', email: 'bad', role: 'manager' }); // fails silently
  await merit.notify('$/ping');
  const list = await merit.people.list({});
  assert.deepEqual(
    list.data.map((person) => person.email),
    ['ada@example.org'],
  );
  await merit.close();
  const notifications = recording
    .sent()
    .map((line) => JSON.parse(line))
    .filter((message) => !('id' in message));
  assert.deepEqual(
    notifications.map((message) => message.method),
    ['people.create', 'people.create', '$/ping', 'exit'],
  );
});

test('calls after close reject with ClientClosed; close is idempotent', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  const first = merit.close();
  assert.strictEqual(merit.close(), first);
  assert.deepEqual(await first, { code: 0, signal: null });
  await assert.rejects(merit.people.list({}), ClientClosed);
  await assert.rejects(merit.notify('$/ping'), ClientClosed);
  await assert.rejects(merit.batch([['$/ping']]), ClientClosed);
});

test('await using closes the client', { ...TIMEOUT, skip: typeof Symbol.asyncDispose !== 'symbol' }, async (t) => {
  const { data, apiKey } = freshData(t);
  const merit = await Merit.spawn({ data, apiKey, env: cleanEnv() });
  assert.equal(typeof merit[Symbol.asyncDispose], 'function');
  await merit[Symbol.asyncDispose]();
  assert.deepEqual(merit.exitStatus, { code: 0, signal: null });
  assert.ok(processGone(merit.pid));
});

test('Merit.init creates an organization', TIMEOUT, async (t) => {
  const directory = temporaryDirectory(t);
  const created = await Merit.init({ org: 'Initech', data: join(directory, 'data'), env: cleanEnv() });
  assert.match(created.organization_id, /^org_/);
  assert.match(created.api_key, /^mk_/);
  const merit = await Merit.spawn({ data: join(directory, 'data'), apiKey: created.api_key, env: cleanEnv() });
  t.after(() => merit.close());
  assert.equal(merit.session.organization.name, 'Initech');
  await assert.rejects(Merit.init({ org: 'Again', data: join(directory, 'data'), env: cleanEnv() }), (error) => {
    assert.ok(error instanceof MeritError);
    assert.equal(error.code, 'init_failed');
    assert.match(error.message, /merit init failed: ./);
    return true;
  });
  await assert.rejects(
    Merit.init({ org: 'X', data: join(directory, 'other'), bin: join(directory, 'no-such-merit') }),
    SpawnFailed,
  );
});

test('the real feed: events.subscribe, then each change arrives as an event after its response; events.list pages it', TIMEOUT, async (t) => {
  const { merit } = await open(t);
  assert.deepEqual(await merit.events.subscribe({ types: ['person.created', 'cycle.created'] }), { subscribed: true });
  const iterator = merit.events()[Symbol.asyncIterator]();
  const ada = await merit.people.create({ name: 'Ada', email: 'ada@example.org', role: 'manager' });
  const cycle = await merit.performance.cycles.create({
    name: 'Q1 2026', type: 'quarterly', period_start: '2026-01-01', period_end: '2026-03-31',
  });
  const first = (await iterator.next()).value;
  assert.equal(first.type, 'person.created');
  assert.deepEqual(first.data, ada);
  const second = (await iterator.next()).value;
  assert.equal(second.type, 'cycle.created');
  assert.equal(second.data.id, cycle.id);
  assert.equal(second.sequence, first.sequence + 1);
  await iterator.return();
  // The durable feed holds the same events, and a watermark continues exactly after them.
  const page = await merit.events.list({ after: first.sequence - 1, limit: 2 });
  assert.deepEqual(page.data, [first, second]);
  assert.equal(page.next_after, second.sequence);
  assert.deepEqual((await merit.events.list({ after: page.next_after })).data, []);
});
