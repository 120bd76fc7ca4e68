// Type declarations for merit-client (hand-written; the package is plain JavaScript).

import { EventEmitter } from 'node:events';

/** The protocol version this client speaks (`initialize` answers with the server's). */
export declare const PROTOCOL_VERSION: '2026-11-01';
/** This package's version, sent as `client_info.version` unless `clientInfo` says otherwise. */
export declare const VERSION: string;

/** A method's params: Merit takes every method's params by name. */
export type Params = Record<string, unknown>;

/**
 * A method, or a group of methods, by its wire name: `merit.people.create(params)` calls `people.create`.
 * Any property is another segment of the name; calling a name that `rpc.discover` did not list rejects with
 * UnknownMethod before anything is sent. Results are the method's `result` as JSON.
 */
export interface Method {
  (params?: Params): Promise<any>;
  readonly [segment: string]: Method;
}

/** `merit.events`: the async iterator of events when called, and the `events.*` methods as properties. */
export interface EventsMember {
  (): MeritEventIterator;
  readonly [segment: string]: Method;
}

export interface SpawnOptions {
  /** The merit binary. Default: the MERIT_BIN environment variable, else `merit` on the PATH. */
  bin?: string;
  /** The data directory (`--data`). Default: MERIT_DATA, else merit's own default (`./.merit`). */
  data?: string;
  /** The API key the session is authenticated with (`initialize {api_key}`). Default: MERIT_API_KEY, if set. */
  apiKey?: string;
  /** Freeze the server's "now" (`--clock`), for test harnesses. */
  clock?: string | Date;
  /** Reproducible ids (`--seed`), for test harnesses only: it makes keys predictable. */
  seed?: number | bigint | string;
  /** `--log-level`: what merit writes to stderr. */
  logLevel?: 'error' | 'warning' | 'info' | 'debug';
  /** Variables added to (or, when undefined, removed from) `process.env` for the child. */
  env?: Record<string, string | undefined>;
  /** More arguments after `serve` and the options above. */
  args?: readonly string[];
  /** The child's working directory. */
  cwd?: string;
  /** `client_info` for `initialize`. Default: `{name: "merit-client", version: VERSION}`. */
  clientInfo?: { name: string; version?: string };
  /** How long `close()` waits for the process before killing it, in ms. Default 5000. */
  closeTimeout?: number;
  /** How many of the last stderr lines are kept for error messages. Default 50. */
  stderrLines?: number;
}

export interface InitOptions {
  /** The organization's name. */
  org: string;
  data?: string;
  bin?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  clock?: string | Date;
  seed?: number | bigint | string;
}

/** What `merit init --json` prints, once: keep the key, only its hash is stored. */
export interface InitResult {
  organization_id: string;
  api_key: string;
}

export interface Principal {
  key_id: string;
  name: string;
  scopes: string[];
  person_id: string | null;
}

/** The result of `initialize`. */
export interface Session {
  protocol_version: string;
  server_info: { name: string; version: string };
  capabilities: { batch: boolean; max_line_bytes: number; [name: string]: unknown };
  organization: { id: string; name: string };
  /** Null when the session is not authenticated. */
  principal: Principal | null;
}

/** A change, as delivered by the server's `event` notifications: `data` is the resource after the change. */
export interface MeritEvent<Data = any> {
  id: string;
  sequence: number;
  type: string;
  created_at: string;
  actor_id: string | null;
  data: Data;
}

/** A server notification other than `event`. */
export interface Notification {
  method: string;
  params?: unknown;
}

export interface MeritEventIterator extends AsyncIterableIterator<MeritEvent> {
  next(): Promise<IteratorResult<MeritEvent, undefined>>;
  /** Stop: unsubscribes, drops what was not read. */
  return(): Promise<IteratorResult<MeritEvent, undefined>>;
}

export interface ExitStatus {
  /** The exit status, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CallOptions {
  /** false: send a name that `rpc.discover` did not list (the server then answers method_not_found). */
  check?: boolean;
}

export interface CloseOptions {
  /** How long to wait for the process to exit before killing it, in ms. Default: `closeTimeout`. */
  timeout?: number;
}

/** A batch entry: `[method, params?]`, or an object (a notification gets no response). */
export type BatchEntry =
  | readonly [method: string, params?: Params]
  | { method: string; params?: Params; notification?: boolean };

/** One batch entry's outcome, as `Promise.allSettled` gives it; the reason is a MeritError. */
export type BatchOutcome<T = any> = PromiseSettledResult<T>;

/**
 * A running `merit serve` and its session. `await Merit.spawn()` starts one; `await merit.close()` ends it.
 *
 * Methods are called by their wire names: `merit.people.create({...})`, `merit.performance.reviews.get({id})`,
 * `merit['$/ping']()`, or `merit.call('people.list', {...})`. Every name is checked against `rpc.discover`.
 *
 * Events (EventEmitter): `event` (MeritEvent), `notification` (any other server notification), `stderr` (each
 * line merit writes to stderr), `exit` (ExitStatus, once the process is gone), `protocolError` (a line on stdout
 * that is not JSON).
 */
export declare class Merit extends EventEmitter {
  private constructor();

  /** Start `merit serve`, open (and authenticate) the session, and fetch the method names from `rpc.discover`. */
  static spawn(options?: SpawnOptions): Promise<Merit>;
  /** `merit init --org NAME --data DIR --json`. */
  static init(options: InitOptions): Promise<InitResult>;

  /** Call a method; rejects with the MeritError subclass of the error's `data.code`. */
  call<T = any>(method: string, params?: Params, options?: CallOptions): Promise<T>;
  /** Send a notification (no id, never answered, even when it fails). Resolves once written. */
  notify(method: string, params?: Params, options?: CallOptions): Promise<void>;
  /** Send one JSON-RPC batch (one line); resolves with one outcome per entry, once all have arrived. */
  batch(entries: readonly BatchEntry[], options?: CallOptions): Promise<BatchOutcome[]>;
  /** `initialize {api_key}` again: authenticate the session with another key. */
  authenticate(apiKey: string): Promise<Session>;
  /**
   * `shutdown`, the `exit` notification, end of stdin, then wait for the process (killed after the timeout).
   * Requests still waiting reject with ClientClosed. Idempotent: every call returns the same promise.
   */
  close(options?: CloseOptions): Promise<ExitStatus>;
  [Symbol.asyncDispose](): Promise<void>;

  /** The event notifications that arrive from now on; ends at close(), throws ServerExited after a crash. */
  readonly events: EventsMember;

  /** The result of `initialize`. */
  readonly session: Session;
  /** The method names `rpc.discover` listed (plus `rpc.discover` and `exit`), sorted. */
  readonly methods: string[];
  /** The OpenRPC document `rpc.discover` returned. */
  readonly openrpc: { openrpc: string; info: Record<string, unknown>; methods: Array<{ name: string; [key: string]: unknown }>; [key: string]: unknown };
  /** The server's process id. */
  readonly pid: number;
  /** `{code, signal}` once the server has exited, else null. */
  readonly exitStatus: ExitStatus | null;
  /** The last lines merit wrote to stderr (very long lines are cut). */
  readonly stderr: string[];

  // The method groups of the protocol (Protocol/openrpc.json). Any other name works the same way at run time.
  readonly organization: Method;
  readonly keys: Method;
  readonly people: Method;
  readonly templates: Method;
  readonly observations: Method;
  readonly objectives: Method;
  readonly notifications: Method;
  readonly performance: Method;
  readonly summaries: Method;
  readonly rpc: Method;
  readonly initialize: Method;
  readonly shutdown: Method;
  readonly '$/ping': Method;

  on(event: 'event', listener: (event: MeritEvent) => void): this;
  on(event: 'notification', listener: (notification: Notification) => void): this;
  on(event: 'stderr', listener: (line: string) => void): this;
  on(event: 'exit', listener: (status: ExitStatus) => void): this;
  on(event: 'protocolError', listener: (error: MeritError) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'event', listener: (event: MeritEvent) => void): this;
  once(event: 'notification', listener: (notification: Notification) => void): this;
  once(event: 'stderr', listener: (line: string) => void): this;
  once(event: 'exit', listener: (status: ExitStatus) => void): this;
  once(event: 'protocolError', listener: (error: MeritError) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off(event: 'event', listener: (event: MeritEvent) => void): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
}

export default Merit;

/** One `{field, problem}` of a validation error; nested fields are paths (`items[2].label`). */
export interface ErrorDetail {
  field: string;
  problem: string;
  [key: string]: unknown;
}

/** The `data` member of a Merit error. */
export interface ErrorData {
  status: number;
  code: string;
  details?: ErrorDetail[];
  [key: string]: unknown;
}

export interface MeritErrorFields {
  code?: string;
  rpcCode?: number;
  status?: number;
  details?: ErrorDetail[];
  data?: ErrorData | null;
  method?: string | null;
  cause?: unknown;
}

/** Every error this package rejects with. */
export declare class MeritError extends Error {
  constructor(message: string, fields?: MeritErrorFields);
  /** `data.code` (`validation_error`, …), or the client's own (`server_exited`, `client_closed`, `spawn_failed`). */
  readonly code: string;
  /** The JSON-RPC error code (-32602, …); null for an error made by the client. */
  readonly rpcCode: number | null;
  /** `data.status` (400, 404, …); null when there is none. */
  readonly status: number | null;
  /** `data.details`, or an empty array. */
  readonly details: ErrorDetail[];
  /** The error's `data` as the server sent it, or null. */
  readonly data: ErrorData | null;
  /** The method that failed, when known. */
  readonly method: string | null;
  readonly name: string;
}

/** -32700: the line is not JSON, not UTF-8, nests too deep or is too long. */
export declare class ParseError extends MeritError {
  static readonly code: 'parse_error';
  static readonly rpcCode: -32700;
  static readonly status: 400;
}
/** -32600: not a valid request; the server is shutting down. */
export declare class InvalidRequest extends MeritError {
  static readonly code: 'invalid_request';
  static readonly rpcCode: -32600;
  static readonly status: 400;
}
/** -32601: no such method. */
export declare class MethodNotFound extends MeritError {
  static readonly code: 'method_not_found';
  static readonly rpcCode: -32601;
  static readonly status: 404;
}
/** -32602: missing, unknown or malformed params; `details` names the fields. */
export declare class ValidationError extends MeritError {
  static readonly code: 'validation_error';
  static readonly rpcCode: -32602;
  static readonly status: 400;
}
/** -32001: no API key, or an unknown or revoked one. */
export declare class AuthenticationRequired extends MeritError {
  static readonly code: 'authentication_required';
  static readonly rpcCode: -32001;
  static readonly status: 401;
}
/** -32003: the principal lacks the permission or scope. */
export declare class PermissionDenied extends MeritError {
  static readonly code: 'permission_denied';
  static readonly rpcCode: -32003;
  static readonly status: 403;
}
/** -32004: no such id in this organization, or not visible to the principal. */
export declare class NotFound extends MeritError {
  static readonly code: 'not_found';
  static readonly rpcCode: -32004;
  static readonly status: 404;
}
/** -32009: a duplicate, or a status transition that is not allowed. */
export declare class Conflict extends MeritError {
  static readonly code: 'conflict';
  static readonly rpcCode: -32009;
  static readonly status: 409;
}
/** -32022: a referenced record is not in this organization. */
export declare class Unprocessable extends MeritError {
  static readonly code: 'unprocessable';
  static readonly rpcCode: -32022;
  static readonly status: 422;
}
/** -32050: the log cannot be written; nothing was changed. */
export declare class StorageUnavailable extends MeritError {
  static readonly code: 'storage_unavailable';
  static readonly rpcCode: -32050;
  static readonly status: 503;
}
/** -32603: a bug in merit. */
export declare class InternalError extends MeritError {
  static readonly code: 'internal_error';
  static readonly rpcCode: -32603;
  static readonly status: 500;
}

/** A method name `rpc.discover` did not list; raised by the client before anything is sent. */
export declare class UnknownMethod extends MethodNotFound {
  constructor(message: string, fields?: MeritErrorFields & { suggestions?: string[] });
  /** Close matches among the method names, best first. */
  readonly suggestions: string[];
}

/** The server ended (or closed its stdout) while a request waited; the message quotes its last stderr lines. */
export declare class ServerExited extends MeritError {
  static readonly code: 'server_exited';
  constructor(
    message: string,
    fields?: MeritErrorFields & { exitCode?: number | null; signal?: NodeJS.Signals | null; stderr?: string[] },
  );
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string[];
}

/** The client was closed while the request waited, or the call came after close(). */
export declare class ClientClosed extends MeritError {
  static readonly code: 'client_closed';
}

/** The merit binary could not be started (not found, not executable). */
export declare class SpawnFailed extends MeritError {
  static readonly code: 'spawn_failed';
}

/** The error class for each `data.code`. */
export declare const errorClasses: Readonly<{
  parse_error: typeof ParseError;
  invalid_request: typeof InvalidRequest;
  method_not_found: typeof MethodNotFound;
  validation_error: typeof ValidationError;
  authentication_required: typeof AuthenticationRequired;
  permission_denied: typeof PermissionDenied;
  not_found: typeof NotFound;
  conflict: typeof Conflict;
  unprocessable: typeof Unprocessable;
  storage_unavailable: typeof StorageUnavailable;
  internal_error: typeof InternalError;
}>;

/** The exception for a JSON-RPC error object `{code, message, data}`. */
export declare function errorFromResponse(error: unknown, method?: string | null): MeritError;

declare global {
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
}
