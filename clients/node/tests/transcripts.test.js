// Replays every Protocol/examples/*.jsonl transcript against the real binary, with raw line I/O, exactly as
// Protocol/README.md "Transcripts" says: the same files the Swift end-to-end tests and every client replay.
//
// A transcript alternates a request line (sent verbatim; it need not be JSON) and the line expected for it (the
// literal `null` when no response is expected). After an expected line, every following line that is a JSON object
// whose `method` is "event" and that has no `id` is one more expected output line (a server notification) produced
// by the same request, read and compared too. Clients never send a method named "event", so this is unambiguous.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { LineReader, cleanEnv, examplesDirectory, freshData, here, meritBin, temporaryDirectory, within } from './helpers.js';

const CLOCK = '2026-04-15T09:00:00Z';
const SEED = '1';

/** Is this transcript line an expected server notification (`{"method":"event", …}` without an id)? */
function isEventLine(line) {
  let value;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return false;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) && value.method === 'event' && !('id' in value);
}

/** The exchanges of one transcript file: `{request: Buffer, expected: JSON|null, events: JSON[], line}`. */
export function loadTranscript(path) {
  const bytes = readFileSync(path);
  const lines = [];
  let start = 0;
  let number = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    let line = bytes.subarray(start, end);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length > 0) lines.push({ bytes: line, number });
    start = end + 1;
    number += 1;
  }
  const exchanges = [];
  let i = 0;
  while (i < lines.length) {
    const request = lines[i++];
    const expectedLine = lines[i++];
    assert.ok(expectedLine, `${path}:${request.number}: a request line without the line expected for it`);
    let expected;
    try {
      expected = JSON.parse(expectedLine.bytes.toString('utf8'));
    } catch {
      assert.fail(`${path}:${expectedLine.number}: the expected line is not JSON`);
    }
    const events = [];
    while (i < lines.length && isEventLine(lines[i].bytes)) events.push(JSON.parse(lines[i++].bytes.toString('utf8')));
    exchanges.push({ request: request.bytes, expected, events, line: request.number });
  }
  return exchanges;
}

const files = readdirSync(examplesDirectory)
  .filter((name) => name.endsWith('.jsonl'))
  .sort();

test('Protocol/examples holds transcripts', () => {
  assert.ok(files.length >= 4, `only ${files.length} transcripts in ${examplesDirectory}`);
});

test('the transcript format: expected event lines after a response are read as part of the exchange', () => {
  const exchanges = loadTranscript(join(examplesDirectory, files[0]));
  assert.ok(exchanges.length > 0);
  assert.ok(!isEventLine(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"event"}')));
  assert.ok(!isEventLine(Buffer.from('[{"jsonrpc":"2.0","method":"event"}]')));
  assert.ok(isEventLine(Buffer.from('{"jsonrpc":"2.0","method":"event","params":{"id":"evt_1","sequence":2}}')));
});

/**
 * Replay one transcript file against `bin` on the data directory `data`; throws (an AssertionError) on the first
 * difference, on output nobody asked for, or on an exit status other than 0.
 */
export async function replay(bin, path, data, readTimeout = 10000) {
  const name = path.split('/').pop();
  const exchanges = loadTranscript(path);
  assert.ok(exchanges.length > 0, `${name} has no exchanges`);
  const server = spawn(bin, ['serve', '--data', data, '--clock', CLOCK, '--seed', SEED], {
    env: cleanEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = [];
  server.stderr.on('data', (chunk) => stderr.push(chunk));
  server.stdin.on('error', () => {});
  const exited = new Promise((resolve) => server.on('close', (code, signal) => resolve({ code, signal })));
  const output = new LineReader(server.stdout);
  try {
    for (const exchange of exchanges) {
      const where = `${name}:${exchange.line}`;
      server.stdin.write(Buffer.concat([exchange.request, Buffer.from('\n')]));
      const expectedLines = exchange.expected === null ? exchange.events : [exchange.expected, ...exchange.events];
      for (const expected of expectedLines) {
        const line = await output.next(readTimeout).catch((error) => {
          throw new Error(`${where}: no output line (${error.message}); stderr: ${Buffer.concat(stderr)}`);
        });
        assert.notEqual(line, null, `${where}: the server closed stdout before answering`);
        let actual;
        try {
          actual = JSON.parse(line);
        } catch {
          assert.fail(`${where}: the output line is not JSON: ${line}`);
        }
        assert.deepStrictEqual(actual, expected, `${where}: got ${line}`);
      }
    }
    server.stdin.end();
    const rest = await output.rest(10000);
    assert.deepStrictEqual(rest, [], `${name}: output nobody asked for (a notification answered?)`);
    const status = await within(exited, 10000, `merit serve for ${name} to exit`);
    assert.deepStrictEqual(status, { code: 0, signal: null }, `${name}: stderr: ${Buffer.concat(stderr)}`);
  } finally {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    server.stdin.destroy();
  }
}

test('Protocol/examples transcripts replay against the binary', async (t) => {
  for (const name of files) {
    await t.test(name, { timeout: 60000 }, async (t) => {
      const { data } = freshData(t, { org: 'Acme', seed: SEED, clock: CLOCK });
      await replay(meritBin(), join(examplesDirectory, name), data);
    });
  }
});

test('the replayer reads and compares expected event lines (against the fake server)', { timeout: 30000 }, async (t) => {
  const fake = join(here, 'fixtures', 'fake-merit.js');
  const withEvents = join(here, 'fixtures', 'events-transcript.jsonl');
  await replay(fake, withEvents, '/nonexistent');
  // The same exchanges with an event line missing, or with one too many, fail.
  const directory = temporaryDirectory(t);
  const lines = readFileSync(withEvents, 'utf8').split('\n').filter((line) => line !== '');
  const missing = join(directory, 'missing-event.jsonl');
  writeFileSync(missing, lines.filter((_, i) => i !== 3).join('\n') + '\n');
  await assert.rejects(replay(fake, missing, '/nonexistent', 1000), /got .*evt_2/);
  const extra = join(directory, 'extra-event.jsonl');
  writeFileSync(extra, [...lines.slice(0, 4), lines[3], ...lines.slice(4)].join('\n') + '\n');
  await assert.rejects(replay(fake, extra, '/nonexistent', 1000), /no output line/);
  const unanswered = join(directory, 'unanswered.jsonl');
  writeFileSync(unanswered, lines.filter((_, i) => i !== 6).join('\n') + '\n');
  await assert.rejects(replay(fake, unanswered, '/nonexistent', 1000), /got .*evt_3/);
});
