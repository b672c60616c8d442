/**
 * The error catalog. User mistakes in options or config are `ConfigError`s (exit 2, one line, no
 * stack); environment problems found while starting are `StartupError`s (exit 1, one line).
 * Codes are stable: tests and scripts may match on them.
 */

export const ConfigErrorCode = {
  /** A value does not have the expected form (number, unit, strports description...). */
  BadValue: 'E_BAD_VALUE',
  /** An option appears where it cannot apply (e.g. the same port twice). */
  Conflict: 'E_CONFLICT',
  /** A path named by an option does not exist. */
  NoSuchPath: 'E_NO_SUCH_PATH',
  /** Command-line syntax: unknown option, missing value. */
  Syntax: 'E_SYNTAX',
} as const;
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

export const StartupErrorCode = {
  PortInUse: 'E_PORT_IN_USE',
  ListenFailed: 'E_LISTEN_FAILED',
  RootUnreadable: 'E_ROOT_UNREADABLE',
  CertificateMissing: 'E_CERTIFICATE',
  NativeModule: 'E_NATIVE_MODULE',
  WorkerFailed: 'E_WORKER_FAILED',
  AccessLog: 'E_ACCESS_LOG',
  Privileges: 'E_PRIVILEGES',
  UserDirs: 'E_USER_DIRS',
} as const;
export type StartupErrorCode = (typeof StartupErrorCode)[keyof typeof StartupErrorCode];

/** A user mistake in an option or config value; `where` names the option or key path. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly where: string;

  constructor(code: ConfigErrorCode, where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'ConfigError';
    this.code = code;
    this.where = where;
  }
}

/** The environment refused something the plan asks for (port taken, root unreadable...). */
export class StartupError extends Error {
  readonly code: StartupErrorCode;

  constructor(code: StartupErrorCode, message: string) {
    super(message);
    this.name = 'StartupError';
    this.code = code;
  }
}

/** The shape in which errors cross thread boundaries. */
export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      code: typeof code === 'string' ? code : 'E_INTERNAL',
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { code: 'E_INTERNAL', message: String(error) };
}
