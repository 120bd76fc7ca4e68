// merit-client: the Node.js client for Merit (`merit serve`, JSON-RPC 2.0 over stdio).
export { Merit, PROTOCOL_VERSION, VERSION } from './lib/merit.js';
export {
  MeritError,
  ParseError,
  InvalidRequest,
  MethodNotFound,
  ValidationError,
  AuthenticationRequired,
  PermissionDenied,
  NotFound,
  Conflict,
  Unprocessable,
  StorageUnavailable,
  InternalError,
  UnknownMethod,
  ServerExited,
  ClientClosed,
  SpawnFailed,
  errorClasses,
  errorFromResponse,
} from './lib/errors.js';
export { Merit as default } from './lib/merit.js';
