// Errors raised by the Merit client. Every error a call can reject with is a MeritError; the server's errors
// get the subclass named by their `data.code`, and the client's own failures have subclasses of their own.

/** The base class of every error of this package. */
export class MeritError extends Error {
  /**
   * @param {string} message
   * @param {object} [fields]
   */
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    const { code, rpcCode, status, details, data, method } = fields;
    /** The error's `data.code` (`validation_error`, …), or the client's own code (`server_exited`, …). */
    this.code = code ?? new.target.code ?? 'merit_error';
    /** The JSON-RPC error code (-32602, …), or null for an error made by the client. */
    this.rpcCode = rpcCode ?? new.target.rpcCode ?? null;
    /** The HTTP-like status of `data.status` (400, 404, …), or null. */
    this.status = status ?? new.target.status ?? null;
    /** `data.details`: `{field, problem}` for validation errors; empty when the server sent none. */
    this.details = Array.isArray(details) ? details : [];
    /** The error's whole `data` member as the server sent it, or null. */
    this.data = data ?? null;
    /** The method whose call failed, when known. */
    this.method = method ?? null;
  }
}

function serverError(name, code, rpcCode, status) {
  // A named class per data.code, so that `instanceof NotFound` and `err.name === 'NotFound'` both work.
  const Class = { [name]: class extends MeritError {} }[name];
  Object.defineProperties(Class, {
    code: { value: code },
    rpcCode: { value: rpcCode },
    status: { value: status },
  });
  return Class;
}

export const ParseError = serverError('ParseError', 'parse_error', -32700, 400);
export const InvalidRequest = serverError('InvalidRequest', 'invalid_request', -32600, 400);
export const MethodNotFound = serverError('MethodNotFound', 'method_not_found', -32601, 404);
export const ValidationError = serverError('ValidationError', 'validation_error', -32602, 400);
export const AuthenticationRequired = serverError('AuthenticationRequired', 'authentication_required', -32001, 401);
export const PermissionDenied = serverError('PermissionDenied', 'permission_denied', -32003, 403);
export const NotFound = serverError('NotFound', 'not_found', -32004, 404);
export const Conflict = serverError('Conflict', 'conflict', -32009, 409);
export const Unprocessable = serverError('Unprocessable', 'unprocessable', -32022, 422);
export const StorageUnavailable = serverError('StorageUnavailable', 'storage_unavailable', -32050, 503);
export const InternalError = serverError('InternalError', 'internal_error', -32603, 500);

/** A method name that `rpc.discover` does not list: raised by the client, before anything is sent. */
export class UnknownMethod extends MethodNotFound {
  constructor(message, fields = {}) {
    super(message, fields);
    /** Method names close to the one asked for, best first (possibly empty). */
    this.suggestions = fields.suggestions ?? [];
  }
}

/** The server process ended (or closed its stdout) while a request waited for its response. */
export class ServerExited extends MeritError {
  static code = 'server_exited';
  constructor(message, fields = {}) {
    super(message, fields);
    /** The exit status, or null when the process was ended by a signal (or had not exited yet). */
    this.exitCode = fields.exitCode ?? null;
    /** The signal that ended the process (`SIGKILL`, …), or null. */
    this.signal = fields.signal ?? null;
    /** The last lines the process wrote to stderr. */
    this.stderr = fields.stderr ?? [];
  }
}

/** The client was closed (`close()`) while a request waited for its response, or a call was made after it. */
export class ClientClosed extends MeritError {
  static code = 'client_closed';
}

/** The merit binary could not be started at all (not found, not executable, …). */
export class SpawnFailed extends MeritError {
  static code = 'spawn_failed';
}

// `error.name` is the class's name ('NotFound'), an ordinary writable property of each class's prototype.
for (const Class of [MeritError, ParseError, InvalidRequest, MethodNotFound, ValidationError, AuthenticationRequired,
  PermissionDenied, NotFound, Conflict, Unprocessable, StorageUnavailable, InternalError, UnknownMethod, ServerExited,
  ClientClosed, SpawnFailed]) {
  Object.defineProperty(Class.prototype, 'name', { value: Class.name, writable: true, configurable: true });
}

/** The class for each `data.code`. */
export const errorClasses = Object.freeze({
  parse_error: ParseError,
  invalid_request: InvalidRequest,
  method_not_found: MethodNotFound,
  validation_error: ValidationError,
  authentication_required: AuthenticationRequired,
  permission_denied: PermissionDenied,
  not_found: NotFound,
  conflict: Conflict,
  unprocessable: Unprocessable,
  storage_unavailable: StorageUnavailable,
  internal_error: InternalError,
});

const byRpcCode = new Map(Object.values(errorClasses).map((Class) => [Class.rpcCode, Class]));

/**
 * The exception for a JSON-RPC error object `{code, message, data: {status, code, details?}}`.
 * @param {any} error the response's `error` member
 * @param {string|null} [method] the method that was called
 * @returns {MeritError}
 */
export function errorFromResponse(error, method = null) {
  const object = error !== null && typeof error === 'object' ? error : {};
  const data = object.data !== null && typeof object.data === 'object' && !Array.isArray(object.data) ? object.data : {};
  const Class =
    (typeof data.code === 'string' && Object.hasOwn(errorClasses, data.code) ? errorClasses[data.code] : undefined) ??
    byRpcCode.get(object.code) ??
    MeritError;
  const message = typeof object.message === 'string' ? object.message : `The server answered an error: ${JSON.stringify(error)}`;
  return new Class(message, {
    code: typeof data.code === 'string' ? data.code : undefined,
    rpcCode: typeof object.code === 'number' ? object.code : undefined,
    status: typeof data.status === 'number' ? data.status : undefined,
    details: data.details,
    data: object.data,
    method,
  });
}
