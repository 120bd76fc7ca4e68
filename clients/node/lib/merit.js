// The Merit client: spawns `merit serve` and drives it with JSON-RPC 2.0 over stdio, one message per line.

import { spawn as spawnProcess, execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import {
  AuthenticationRequired,
  ClientClosed,
  MeritError,
  ParseError,
  ServerExited,
  SpawnFailed,
  UnknownMethod,
  errorFromResponse,
} from './errors.js';
import { closeMatches } from './names.js';

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = '2026-11-01';
/** This package's version, sent as `client_info.version`. */
export const VERSION = '0.1.0';

// Methods every server answers, whether or not `rpc.discover` lists them (it does not list itself or `exit`).
const SESSION_METHODS = ['initialize', 'rpc.discover', '$/ping', 'shutdown', 'exit'];
// Property names that tools probe on any object (promise resolution, JSON, test frameworks): never method names.
const PROBES = new Set(['then', 'catch', 'finally', 'toJSON', 'inspect', 'asymmetricMatch', '$$typeof', 'nodeType']);
// Members of the client that are also the first segment of method names (`events()` and `events.subscribe`).
const DUAL_MEMBERS = new Set(['events']);
const DEFAULT_CLOSE_TIMEOUT = 5000;
const DEFAULT_STDERR_LINES = 50;
const STDERR_LINE_CHARS = 2000;

const noop = () => {};

/**
 * A running `merit serve` and the session with it. Make one with `await Merit.spawn(options)`.
 *
 * Methods are called by their wire names through properties (`merit.people.create({...})`), checked against the
 * names `rpc.discover` listed when the client started, or with `merit.call(name, params)`.
 */
export class Merit extends EventEmitter {
  /**
   * Start `merit serve`, open the session (authenticating it when an API key is given) and fetch the method list.
   * @param {import('../index.js').SpawnOptions} [options]
   * @returns {Promise<Merit>}
   */
  static async spawn(options = {}) {
    const env = { ...process.env, ...(options.env ?? {}) };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const bin = options.bin ?? env.MERIT_BIN ?? 'merit';
    const args = ['serve'];
    if (options.data !== undefined) args.push('--data', String(options.data));
    if (options.clock !== undefined) {
      args.push('--clock', options.clock instanceof Date ? options.clock.toISOString() : String(options.clock));
    }
    if (options.seed !== undefined) args.push('--seed', String(options.seed));
    if (options.logLevel !== undefined) args.push('--log-level', String(options.logLevel));
    args.push(...(options.args ?? []));

    const child = spawnProcess(bin, args, { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const merit = new Merit(child, { bin, options });
    const core = merit[CORE];
    await new Promise((resolve, reject) => {
      const onSpawn = () => {
        child.off('error', onError);
        resolve();
      };
      const onError = (error) => {
        child.off('spawn', onSpawn);
        reject(
          new SpawnFailed(
            `Could not start merit (${JSON.stringify(bin)}): ${error.message}. ` +
              'Pass the binary as the bin option, set MERIT_BIN, or put merit on the PATH.',
            { cause: error },
          ),
        );
      };
      child.once('spawn', onSpawn);
      child.once('error', onError);
    });

    const initialize = {
      protocol_version: PROTOCOL_VERSION,
      client_info: options.clientInfo ?? { name: 'merit-client', version: VERSION },
    };
    const apiKey = options.apiKey;
    if (apiKey !== undefined && apiKey !== null) initialize.api_key = apiKey;
    try {
      const [session, document] = await Promise.all([
        core.request('initialize', initialize),
        core.request('rpc.discover', undefined),
      ]);
      core.session = session;
      core.setDocument(document);
      if (session?.principal === null && (initialize.api_key === undefined) && env.MERIT_API_KEY) {
        // The server said so on stderr; the session would answer authentication_required to everything.
        throw new AuthenticationRequired(
          'MERIT_API_KEY is not a valid key of this data directory (unknown or revoked): the session is not authenticated.',
          { method: 'initialize' },
        );
      }
    } catch (error) {
      await core.close({ timeout: 1000 }).catch(noop);
      throw error;
    }
    return merit;
  }

  /**
   * Create an organization and its admin key with `merit init --org NAME --data DIR --json`.
   * @param {import('../index.js').InitOptions} options
   * @returns {Promise<{organization_id: string, api_key: string}>}
   */
  static async init(options) {
    const env = { ...process.env, ...(options.env ?? {}) };
    const bin = options.bin ?? env.MERIT_BIN ?? 'merit';
    const args = ['init', '--org', String(options.org)];
    if (options.data !== undefined) args.push('--data', String(options.data));
    if (options.clock !== undefined) {
      args.push('--clock', options.clock instanceof Date ? options.clock.toISOString() : String(options.clock));
    }
    if (options.seed !== undefined) args.push('--seed', String(options.seed));
    args.push('--json');
    const stdout = await new Promise((resolve, reject) => {
      execFile(bin, args, { env, cwd: options.cwd, maxBuffer: 1 << 20 }, (error, out, err) => {
        if (error) {
          const started = typeof error.code === 'number' || error.signal;
          const message = `merit init failed: ${String(err).trim() || error.message}`;
          reject(
            started
              ? new MeritError(message, { code: 'init_failed', cause: error })
              : new SpawnFailed(`${message}. Pass the binary as the bin option, set MERIT_BIN, or put merit on the PATH.`, {
                  cause: error,
                }),
          );
        } else {
          resolve(out);
        }
      });
    });
    return JSON.parse(stdout);
  }

  /** @private Use `Merit.spawn`. */
  constructor(child, { bin, options }) {
    super();
    Object.defineProperty(this, CORE, { value: new Core(this, child, bin, options) });
    const proxy = new Proxy(this, clientHandler);
    this[CORE].proxy = proxy;
    return proxy;
  }

  /**
   * Call a method and wait for its result. Rejects with a MeritError subclass.
   * @param {string} method the wire name, such as `people.list`
   * @param {object} [params]
   * @param {{check?: boolean}} [options] `check: false` sends a name that `rpc.discover` did not list
   */
  call(method, params, options = {}) {
    const core = this[CORE];
    const refused = core.refuse([method], options);
    if (refused) return Promise.reject(refused);
    return core.request(method, params);
  }

  /**
   * Send a notification: a request without an id, which the server never answers (not even with an error).
   * Resolves once the line is handed to the pipe.
   */
  notify(method, params, options = {}) {
    const core = this[CORE];
    const refused = core.refuse([method], options);
    if (refused) return Promise.reject(refused);
    return core.write(core.message(undefined, method, params));
  }

  /**
   * Send several requests as one JSON-RPC batch (one line, one array). Each entry is `[method, params?]` or
   * `{method, params?, notification?}`. Resolves, once every response has arrived, with one outcome per entry in
   * the shape of `Promise.allSettled` (a notification's outcome is fulfilled with `undefined`).
   */
  async batch(entries, options = {}) {
    const core = this[CORE];
    const requests = entries.map((entry, index) => {
      if (Array.isArray(entry)) return { method: entry[0], params: entry[1], notification: false };
      if (entry !== null && typeof entry === 'object') {
        return { method: entry.method, params: entry.params, notification: Boolean(entry.notification) };
      }
      throw new TypeError(`batch entry ${index} is neither [method, params] nor {method, params}.`);
    });
    const refused = core.refuse(
      requests.map((request) => request.method),
      options,
    );
    if (refused) throw refused;
    if (requests.length === 0) return [];
    return Promise.allSettled(core.requestBatch(requests));
  }

  /**
   * The `event` notifications, as an async iterator: `for await (const event of merit.events()) …`. It sees the
   * events that arrive after it was made; it ends when the client is closed, and throws ServerExited when the
   * server ended unexpectedly. Leaving the loop (break, return) unsubscribes it.
   */
  events() {
    return this[CORE].subscribe();
  }

  /** Authenticate the session with (another) API key: `initialize {api_key}`. Resolves with the session. */
  async authenticate(apiKey) {
    const core = this[CORE];
    const refused = core.refuse(['initialize'], {});
    if (refused) throw refused;
    const session = await core.request('initialize', {
      protocol_version: PROTOCOL_VERSION,
      client_info: core.options.clientInfo ?? { name: 'merit-client', version: VERSION },
      api_key: apiKey,
    });
    core.session = session;
    return session;
  }

  /**
   * Close the session: `shutdown`, then the `exit` notification, then end stdin and wait for the process (killing it
   * after `timeout` ms). Requests still waiting are rejected with ClientClosed. Resolves with the exit status.
   */
  close(options = {}) {
    return this[CORE].close(options);
  }

  /** The result of `initialize`: `{protocol_version, server_info, capabilities, organization, principal}`. */
  get session() {
    return this[CORE].session;
  }

  /** The method names `rpc.discover` listed, sorted (plus the session methods it does not list). */
  get methods() {
    return [...this[CORE].methods].sort();
  }

  /** The OpenRPC document `rpc.discover` returned. */
  get openrpc() {
    return this[CORE].document;
  }

  /** The server's process id. */
  get pid() {
    return this[CORE].child.pid;
  }

  /** The exit status once the server has exited (`{code, signal}`), else null. */
  get exitStatus() {
    return this[CORE].exitStatus;
  }

  /** The last lines the server wrote to stderr (about 50 by default). */
  get stderr() {
    return [...this[CORE].stderrLines];
  }

  [inspect.custom](depth, options) {
    const core = this[CORE];
    const state = core.exitStatus ? 'exited' : core.closing ? 'closing' : 'open';
    return `Merit { pid: ${core.child.pid}, ${state}, methods: ${core.methods.size}, pending: ${core.pending.size} }`;
  }
}

if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(Merit.prototype, Symbol.asyncDispose, {
    value: async function dispose() {
      await this.close();
    },
    writable: true,
    configurable: true,
  });
}

const CORE = Symbol('merit.core');

// The top-level property handler: the client's own members, else a method path (`merit.people` → `people.*`).
const clientHandler = {
  get(target, property, receiver) {
    if (typeof property === 'symbol') return Reflect.get(target, property, receiver);
    if (property in target) {
      const value = Reflect.get(target, property, receiver);
      // A member that is also the first segment of a method (`events()` and `events.subscribe`) serves both.
      if (typeof value === 'function' && (DUAL_MEMBERS.has(property) || target[CORE].namespaces.has(property))) {
        return methodPath(target[CORE], property, value);
      }
      return value;
    }
    if (PROBES.has(property)) return undefined;
    return methodPath(target[CORE], property);
  },
};

/** A callable stand-in for the method `path` and the namespace under it. */
function methodPath(core, path, own) {
  const key = own ? `own:${path}` : path;
  const cache = core.paths.get(key);
  if (cache) return cache;
  const target = function method(params) {};
  Object.defineProperty(target, 'name', { value: path });
  const proxy = new Proxy(target, {
    get(_, property) {
      if (typeof property === 'symbol') {
        if (property === inspect.custom) return () => `[Merit method ${path}]`;
        return undefined;
      }
      if (PROBES.has(property)) return undefined;
      return methodPath(core, `${path}.${property}`);
    },
    apply(_, thisArg, args) {
      if (own) return Reflect.apply(own, thisArg, args);
      const refused = core.refuse([path], {});
      if (refused) return Promise.reject(refused);
      return core.request(path, args[0]);
    },
  });
  core.paths.set(key, proxy);
  return proxy;
}

/** Everything behind a Merit: the child process, the pending requests, the readers. */
class Core {
  constructor(client, child, bin, options) {
    this.client = client;
    this.proxy = client;
    this.child = child;
    this.bin = bin;
    this.options = options;
    this.closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.stderrLimit = options.stderrLines ?? DEFAULT_STDERR_LINES;
    this.nextId = 1;
    /** id → {resolve, reject, method, line} */
    this.pending = new Map();
    /** line number → Set of ids still unanswered, oldest first (for errors answered with `id: null`). */
    this.openLines = new Map();
    this.nextLine = 1;
    this.methods = new Set(SESSION_METHODS);
    this.namespaces = new Set();
    this.paths = new Map();
    this.document = null;
    this.session = null;
    this.subscribers = new Set();
    this.stderrLines = [];
    this.stderrPartial = '';
    this.stderrDropped = 0;
    this.stdoutPartial = '';
    this.corked = false;
    this.closing = false;
    this.closePromise = null;
    this.exitStatus = null;
    this.finished = false;
    this.spawnError = null;
    this.finishedPromise = new Promise((resolve) => (this.resolveFinished = resolve));

    child.stdin.on('error', noop); // EPIPE once the server is gone: the exit handling reports it.
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => this.onStdout(chunk));
    child.stdout.on('end', () => {
      this.flushStdout();
      setTimeout(() => this.finish(), 2000).unref();
    });
    child.stdout.on('error', noop);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => this.onStderr(chunk));
    child.stderr.on('end', () => this.flushStderr());
    child.stderr.on('error', noop);
    child.on('error', (error) => {
      this.spawnError = error;
      if (child.pid === undefined) this.finish();
    });
    child.on('exit', (code, signal) => {
      this.exitStatus = { code, signal };
      setTimeout(() => this.finish(), 1000).unref();
    });
    child.on('close', (code, signal) => {
      if (!this.exitStatus) this.exitStatus = { code, signal };
      this.finish();
    });
  }

  setDocument(document) {
    this.document = document;
    for (const method of document?.methods ?? []) {
      if (typeof method?.name === 'string') this.methods.add(method.name);
    }
    for (const name of this.methods) {
      const segments = name.split('.');
      if (segments.length > 1) this.namespaces.add(segments[0]);
    }
  }

  /** The error refusing these method names before anything is sent, or null. */
  refuse(methods, options) {
    if (this.closing || this.finished) return this.closedError(methods[0]);
    if (options.check === false || this.document === null) return null;
    for (const method of methods) {
      if (typeof method !== 'string') return new TypeError(`A method name must be a string, not ${typeof method}.`);
      if (this.methods.has(method)) continue;
      const suggestions = closeMatches(method, this.methods);
      const isNamespace = [...this.methods].some((name) => name.startsWith(`${method}.`));
      let message = isNamespace
        ? `'${method}' is a group of methods, not a method (rpc.discover lists no method of that name).`
        : `Unknown method '${method}': rpc.discover lists no method of that name.`;
      if (suggestions.length > 0) {
        message += ` Did you mean ${suggestions.map((name) => `'${name}'`).join(', ')}?`;
      }
      return new UnknownMethod(message, { method, suggestions, status: 404 });
    }
    return null;
  }

  closedError(method) {
    if (!this.closing) return this.exitedError(method);
    return new ClientClosed(
      `The Merit client is closed${method ? `; '${method}' was not sent` : ''}.`,
      { method },
    );
  }

  message(id, method, params) {
    const message = { jsonrpc: '2.0' };
    if (id !== undefined) message.id = id;
    message.method = method;
    if (params !== undefined) message.params = params;
    return JSON.stringify(message);
  }

  checkLength(line, method) {
    const max = this.session?.capabilities?.max_line_bytes;
    if (typeof max === 'number' && line.length > max / 4 && Buffer.byteLength(line) > max) {
      return new ParseError(
        `The request for '${method}' is ${Buffer.byteLength(line)} bytes, more than the server accepts on one line ` +
          `(capabilities.max_line_bytes = ${max}); it was not sent.`,
        { method },
      );
    }
    return null;
  }

  /** Send a request and return the promise of its result. */
  request(method, params) {
    if (this.finished) return Promise.reject(this.closedError(method));
    const id = this.nextId++;
    let line;
    try {
      line = this.message(id, method, params);
    } catch (error) {
      return Promise.reject(new TypeError(`The params of '${method}' cannot be written as JSON: ${error.message}`));
    }
    const tooLong = this.checkLength(line, method);
    if (tooLong) return Promise.reject(tooLong);
    const lineNumber = this.nextLine++;
    const trace = callSite(this.request);
    const promise = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method, line: lineNumber, trace });
    });
    this.openLines.set(lineNumber, new Set([id]));
    this.write(line).catch(noop);
    return promise;
  }

  /** Send a batch and return one promise per request (notifications resolve to undefined at once). */
  requestBatch(requests) {
    const messages = [];
    const promises = [];
    const ids = new Set();
    const lineNumber = this.nextLine++;
    const trace = callSite(this.requestBatch);
    for (const { method, params, notification } of requests) {
      const id = notification ? undefined : this.nextId++;
      const message = { jsonrpc: '2.0' };
      if (id !== undefined) message.id = id;
      message.method = method;
      if (params !== undefined) message.params = params;
      messages.push(message);
      if (id === undefined) {
        promises.push(Promise.resolve(undefined));
      } else {
        ids.add(id);
        promises.push(
          new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method, line: lineNumber, trace })),
        );
      }
    }
    let line;
    let failure = null;
    try {
      line = JSON.stringify(messages);
      failure = this.checkLength(line, 'batch');
    } catch (error) {
      failure = new TypeError(`The batch cannot be written as JSON: ${error.message}`);
    }
    if (failure) {
      for (const id of ids) this.pending.get(id).reject(failure);
      for (const id of ids) this.pending.delete(id);
      return promises;
    }
    if (ids.size > 0) this.openLines.set(lineNumber, ids);
    this.write(line).catch(noop);
    return promises;
  }

  /** Write one line; lines written in the same tick go out in one write, so the server commits them together. */
  write(line) {
    const stdin = this.child.stdin;
    if (this.finished || stdin.destroyed || stdin.writableEnded) {
      return Promise.reject(this.closedError());
    }
    if (!this.corked) {
      this.corked = true;
      stdin.cork();
      process.nextTick(() => {
        this.corked = false;
        stdin.uncork();
      });
    }
    return new Promise((resolve, reject) => {
      stdin.write(`${line}\n`, (error) => {
        if (!error) {
          resolve();
          return;
        }
        // The pipe broke: the process is gone or going; say how once it is known.
        settleWithin(this.finishedPromise, 1000).then(() => reject(this.closedError()));
      });
    });
  }

  onStdout(chunk) {
    let start = 0;
    let newline = chunk.indexOf('\n');
    if (newline === -1) {
      this.stdoutPartial += chunk;
      return;
    }
    const errors = [];
    while (newline !== -1) {
      const line = this.stdoutPartial + chunk.slice(start, newline);
      this.stdoutPartial = '';
      this.onLine(line, errors);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    this.stdoutPartial = chunk.slice(start);
    // A listener that threw: rethrow it as Node would, without losing the lines after it.
    for (const error of errors) process.nextTick(() => { throw error; });
  }

  flushStdout() {
    if (this.stdoutPartial.trim() !== '') {
      const errors = [];
      this.onLine(this.stdoutPartial, errors);
      for (const error of errors) process.nextTick(() => { throw error; });
    }
    this.stdoutPartial = '';
  }

  onLine(line, errors) {
    if (line.trim() === '') return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      this.safeEmit('protocolError', new MeritError(`merit wrote a line that is not JSON: ${line.slice(0, 200)}`), errors);
      return;
    }
    if (Array.isArray(message)) {
      for (const element of message) this.dispatch(element, errors);
    } else {
      this.dispatch(message, errors);
    }
  }

  dispatch(message, errors) {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return;
    if ('id' in message && ('result' in message || 'error' in message)) {
      if (message.id === null) {
        this.failOldestLine(message.error);
        return;
      }
      const entry = this.pending.get(message.id);
      if (!entry) return; // abandoned (closed) or not ours
      this.settled(message.id, entry);
      if ('error' in message) entry.reject(withCallSite(errorFromResponse(message.error, entry.method), entry.trace));
      else entry.resolve(message.result);
      return;
    }
    if (typeof message.method === 'string' && !('id' in message)) {
      if (message.method === 'event') {
        for (const subscriber of this.subscribers) subscriber.push(message.params);
        this.safeEmit('event', message.params, errors);
      } else {
        this.safeEmit('notification', { method: message.method, params: message.params }, errors);
      }
    }
  }

  safeEmit(name, value, errors) {
    try {
      this.client.emit(name, value);
    } catch (error) {
      errors.push(error);
    }
  }

  settled(id, entry) {
    this.pending.delete(id);
    const ids = this.openLines.get(entry.line);
    if (ids) {
      ids.delete(id);
      if (ids.size === 0) this.openLines.delete(entry.line);
    }
  }

  /** A response with `id: null` (the server could not read the line): it answers the oldest unanswered line. */
  failOldestLine(error) {
    const oldest = this.openLines.entries().next();
    if (oldest.done) return;
    const [lineNumber, ids] = oldest.value;
    this.openLines.delete(lineNumber);
    for (const id of ids) {
      const entry = this.pending.get(id);
      if (!entry) continue;
      this.pending.delete(id);
      entry.reject(withCallSite(errorFromResponse(error, entry.method), entry.trace));
    }
  }

  rejectAll(makeError) {
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.openLines.clear();
    for (const entry of entries) entry.reject(withCallSite(makeError(entry.method), entry.trace));
  }

  onStderr(chunk) {
    const pieces = chunk.split('\n');
    for (let i = 0; i < pieces.length - 1; i++) {
      this.appendStderr(pieces[i]);
      this.pushStderrLine();
    }
    this.appendStderr(pieces[pieces.length - 1]);
  }

  appendStderr(text) {
    const room = STDERR_LINE_CHARS - this.stderrPartial.length;
    if (text.length <= room) {
      this.stderrPartial += text;
    } else {
      this.stderrPartial += text.slice(0, Math.max(0, room));
      this.stderrDropped += text.length - Math.max(0, room);
    }
  }

  pushStderrLine() {
    let line = this.stderrPartial.replace(/\r$/, '');
    if (this.stderrDropped > 0) line += `… (${this.stderrDropped} more characters)`;
    this.stderrPartial = '';
    this.stderrDropped = 0;
    this.stderrLines.push(line);
    if (this.stderrLines.length > this.stderrLimit) this.stderrLines.splice(0, this.stderrLines.length - this.stderrLimit);
    if (this.client.listenerCount('stderr') > 0) {
      const errors = [];
      this.safeEmit('stderr', line, errors);
      for (const error of errors) process.nextTick(() => { throw error; });
    }
  }

  flushStderr() {
    if (this.stderrPartial !== '' || this.stderrDropped > 0) this.pushStderrLine();
  }

  describeExit() {
    const status = this.exitStatus;
    if (this.spawnError && this.child.pid === undefined) return `could not be started (${this.spawnError.message})`;
    if (!status) return 'closed its stdout';
    if (status.signal) return `was killed by ${status.signal}`;
    return `exited with status ${status.code}`;
  }

  exitedError(method) {
    this.flushStderr();
    const tail = this.stderrLines.slice(-10);
    const waiting = method ? ` while '${method}' waited for its response` : '';
    let message = `merit (pid ${this.child.pid}) ${this.describeExit()}${waiting}.`;
    message += tail.length > 0 ? ` Its last stderr lines:\n${tail.map((line) => `  ${line}`).join('\n')}` : ' It wrote nothing to stderr.';
    return new ServerExited(message, {
      method,
      exitCode: this.exitStatus?.code ?? null,
      signal: this.exitStatus?.signal ?? null,
      stderr: [...this.stderrLines],
    });
  }

  /** The process is gone (or its stdout is): fail whatever still waits, end the event iterators. */
  finish() {
    if (this.finished) return;
    this.finished = true;
    this.flushStdout();
    this.flushStderr();
    const expected = this.closing;
    if (expected) this.rejectAll((method) => this.closedError(method));
    else this.rejectAll((method) => this.exitedError(method));
    const status = this.exitStatus;
    const failed = !expected && (status === null || status.code !== 0);
    const error = failed ? this.exitedError() : null;
    for (const subscriber of [...this.subscribers]) subscriber.end(error);
    this.resolveFinished();
    const errors = [];
    this.safeEmit('exit', status ?? { code: null, signal: null }, errors);
    for (const thrown of errors) process.nextTick(() => { throw thrown; });
  }

  subscribe() {
    const core = this;
    const queue = [];
    const waiters = [];
    let done = false;
    let failure = null;
    const subscriber = {
      push(event) {
        if (done) return;
        const waiter = waiters.shift();
        if (waiter) waiter.resolve({ value: event, done: false });
        else queue.push(event);
      },
      end(error) {
        if (done) return;
        done = true;
        failure = error;
        core.subscribers.delete(subscriber);
        while (waiters.length > 0) {
          const waiter = waiters.shift();
          if (failure) {
            waiter.reject(failure);
            failure = null;
          } else {
            waiter.resolve({ value: undefined, done: true });
          }
        }
      },
    };
    if (this.finished || this.closing) done = true;
    else this.subscribers.add(subscriber);
    return {
      next() {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
        if (done) {
          if (failure) {
            const error = failure;
            failure = null;
            return Promise.reject(error);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
      },
      return() {
        queue.length = 0;
        subscriber.end(null);
        failure = null;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  close({ timeout = this.closeTimeout } = {}) {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = (async () => {
      this.rejectAll(
        (method) =>
          new ClientClosed(`The Merit client was closed while '${method}' waited for its response.`, { method }),
      );
      for (const subscriber of [...this.subscribers]) subscriber.end(null);
      const deadline = Date.now() + timeout;
      if (!this.finished) {
        const stdin = this.child.stdin;
        if (!stdin.destroyed && !stdin.writableEnded) {
          // shutdown, then exit; both are answered (or not) quickly by a healthy server.
          const shutdown = this.request('shutdown', undefined);
          await settleWithin(shutdown, Math.max(0, deadline - Date.now()));
          if (!this.finished) {
            await settleWithin(this.write('{"jsonrpc":"2.0","method":"exit"}'), 100);
            stdin.end();
          }
        }
        if (!(await settleWithin(this.finishedPromise, Math.max(0, deadline - Date.now())))) {
          this.child.kill('SIGKILL');
          await settleWithin(this.finishedPromise, 5000);
        }
      }
      await this.finishedPromise;
      return this.exitStatus ?? { code: null, signal: null };
    })();
    return this.closePromise;
  }
}

/** Wait for a promise for at most `ms`; true when it settled in time (fulfilled or rejected). */
function settleWithin(promise, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

/** The stack of the code that made a request (formatted only if the request fails). */
function callSite(omitAbove) {
  const holder = {};
  Error.captureStackTrace(holder, omitAbove);
  return holder;
}

/** Give an error that was made when a response arrived the stack of the call that asked for it. */
function withCallSite(error, trace) {
  if (!trace) return error;
  const frames = String(trace.stack ?? '').split('\n').slice(1);
  if (frames.length > 0) {
    Object.defineProperty(error, 'stack', {
      value: `${error.name}: ${error.message}\n${frames.join('\n')}`,
      writable: true,
      configurable: true,
    });
  }
  return error;
}
