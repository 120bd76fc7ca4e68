// Shared test helpers: the merit binary, fresh data directories, wrapper scripts, raw line I/O.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const packageRoot = resolve(here, '..');
export const repoRoot = resolve(packageRoot, '..', '..');
export const examplesDirectory = join(repoRoot, 'Protocol', 'examples');

/** The merit binary under test: MERIT_BIN (the `test` script sets it). */
export function meritBin() {
  const bin = process.env.MERIT_BIN;
  if (!bin) throw new Error('MERIT_BIN is not set: run the tests with clients/node/test, or set MERIT_BIN.');
  return bin;
}

/** A temporary directory, removed after the test. */
export function temporaryDirectory(t, prefix = 'merit-node-') {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/**
 * A fresh data directory made with `merit init --json`: `{data, apiKey, organizationId, directory}`.
 * @param {import('node:test').TestContext} t
 */
export function freshData(t, { org = 'Acme', seed, clock } = {}) {
  const directory = temporaryDirectory(t);
  const data = join(directory, 'data');
  const args = ['init', '--org', org, '--data', data, '--json'];
  if (seed !== undefined) args.push('--seed', String(seed));
  if (clock !== undefined) args.push('--clock', clock);
  const output = execFileSync(meritBin(), args, { encoding: 'utf8', env: cleanEnv() });
  const { organization_id: organizationId, api_key: apiKey } = JSON.parse(output);
  return { data, apiKey, organizationId, directory };
}

/** process.env without the MERIT_* variables that change what a server does, plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of ['MERIT_API_KEY', 'MERIT_DATA', 'MERIT_CLOCK', 'MERIT_SEED', 'MERIT_LOG_LEVEL']) delete env[name];
  return { ...env, ...extra };
}

/** Write an executable shell script and return its path. */
export function script(directory, name, body) {
  const path = join(directory, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Quote a string for /bin/sh. */
export function shellQuote(text) {
  return `'${String(text).replaceAll("'", "'\\''")}'`;
}

/** Is a process (not a zombie: a zombie still answers kill 0) gone? */
export function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reject with a clear message if `promise` has not settled within `ms`. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Raw lines from a readable stream, as Buffers split on `\n`, read one at a time with a timeout.
 */
export class LineReader {
  constructor(stream) {
    this.lines = [];
    this.waiters = [];
    this.partial = Buffer.alloc(0);
    this.ended = false;
    stream.on('data', (chunk) => {
      let buffer = Buffer.concat([this.partial, chunk]);
      let newline;
      while ((newline = buffer.indexOf(0x0a)) !== -1) {
        this.push(buffer.subarray(0, newline));
        buffer = buffer.subarray(newline + 1);
      }
      this.partial = Buffer.from(buffer);
    });
    stream.on('end', () => {
      if (this.partial.length > 0) this.push(this.partial);
      this.partial = Buffer.alloc(0);
      this.ended = true;
      for (const waiter of this.waiters.splice(0)) waiter(null);
    });
  }

  push(line) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(line);
    else this.lines.push(line);
  }

  /** The next line as a string, or null at end of stream; rejects after `ms`. */
  next(ms = 10000) {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift().toString('utf8'));
    if (this.ended) return Promise.resolve(null);
    return within(
      new Promise((resolve) => this.waiters.push((line) => resolve(line === null ? null : line.toString('utf8')))),
      ms,
      'the next output line',
    );
  }

  /** Every line left, once the stream has ended. */
  async rest(ms = 10000) {
    const lines = [];
    for (;;) {
      const line = await this.next(ms);
      if (line === null) return lines;
      lines.push(line);
    }
  }
}
