// What can go wrong on a first start, said in one line that names what to change: a data
// directory that cannot be written, a port already taken, a PostgreSQL server that cannot be
// reached or refuses us, two hubs started on one SQLite database, and a watch TLS certificate or
// key that cannot be read or used.
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';

/** A failure the operator can fix; its message says how. main.ts prints it without a stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** Creates the data directory owner-only (it holds the signing secret and, by default, the database). */
export function prepareDataDir(dir: string): void {
  const where = `HUB_DATA_DIR ${resolve(dir)}`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // An existing directory keeps its mode unless we own it; never loosen, only tighten.
    if (statSync(dir).uid === process.getuid?.()) chmodSync(dir, 0o700);
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (err) {
    throw new StartupError(
      `${where} cannot be used (${errno(err) ?? (err as Error).message}): give this user write access to it, or set HUB_DATA_DIR to a writable directory`,
    );
  }
}

/** The SQLite file of a `sqlite:` URL, or undefined for other databases. */
export function sqlitePath(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith('sqlite:')) return undefined;
  const path = databaseUrl.slice('sqlite:'.length);
  return path === ':memory:' ? undefined : resolve(path);
}

const alive = (pid: number): boolean => {
  if (pid === process.pid) return false; // our own previous run (a container restarts as the same pid)
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
};

/**
 * One hub per SQLite database: two would each keep their own caches and jobs over one file. A
 * lock file beside the database holds the owner's pid; a lock whose process is gone is taken
 * over. Returns the release function (called on exit).
 */
export function lockSqlite(dbPath: string): () => void {
  const lock = `${dbPath}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lock, { force: true });
      };
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new StartupError(
          `another hub (pid ${owner}) is already using the database ${dbPath}: stop it, or give this hub its own HUB_DATA_DIR (or DATABASE_URL)`,
        );
      }
      rmSync(lock, { force: true }); // left by a hub that died: take over
    }
  }
  throw new StartupError(`cannot lock the database ${dbPath}: remove ${lock} if no hub is running`);
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** PostgreSQL and socket error codes → what the operator should check. */
const PG_HINTS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is the server running and listening there?',
  ENOTFOUND: 'unknown host: check the host name',
  EAI_AGAIN: 'the host name cannot be resolved right now: check the host name and DNS',
  ETIMEDOUT: 'the connection timed out: check the host, port and firewall',
  EHOSTUNREACH: 'the host is unreachable: check the host and network',
  '28P01': 'the password was refused: check the user and password',
  '28000': 'the server refuses this user or address (pg_hba.conf): check the user, or allow this client',
  '3D000': 'the database does not exist: create it (createdb) or fix the name',
  '42501': 'the user may not create tables here: grant it the rights, or use another user',
  '57P03': 'the server is starting up or shutting down: try again in a moment',
};

/** Explains an error from opening the store, or undefined when it is not one we recognise. */
export function explainStoreError(err: unknown, databaseUrl: string): StartupError | undefined {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const code = errno(cause) ?? errno(err);
  if (databaseUrl.startsWith('postgres')) {
    const hint = (code && PG_HINTS[code]) ?? (cause as Error | undefined)?.message;
    return new StartupError(`cannot use PostgreSQL at ${redactUrl(databaseUrl)}: ${hint}. Check DATABASE_URL.`);
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'SQLITE_READONLY') {
    return new StartupError(
      `cannot open the SQLite database (${code}): check that ${databaseUrl.slice(7)} and its directory are writable`,
    );
  }
  if (code === 'SQLITE_BUSY') {
    return new StartupError(
      `the SQLite database ${databaseUrl.slice(7)} is locked by another process: stop it, or use another HUB_DATA_DIR`,
    );
  }
  return undefined;
}

/** Explains a failure to listen, or undefined. */
export function explainListenError(err: unknown, port: number, host: string, variable = 'PORT'): StartupError | undefined {
  const code = errno(err);
  if (code === 'EADDRINUSE') {
    return new StartupError(
      `port ${port} on ${host} is already in use (another hub, or another program): stop it, or start with ${variable}=<another port>`,
    );
  }
  if (code === 'EACCES') return new StartupError(`this user may not listen on port ${port}: use a port above 1023 (${variable})`);
  if (code === 'EADDRNOTAVAIL')
    return new StartupError(`HOST=${host} is not an address of this machine: use 0.0.0.0 or 127.0.0.1`);
  return undefined;
}

/**
 * The watch gateway's TLS certificate and key (HUB_WATCH_TLS_CERT_FILE, HUB_WATCH_TLS_KEY_FILE),
 * read and tried before anything listens: a missing file, or a certificate and key that are not
 * PEM or do not belong together, is said in one line rather than a stack from the listener.
 */
export function checkWatchTls(tls: { certFile: string; keyFile: string } | undefined): void {
  if (!tls) return;
  const read = (variable: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new StartupError(
        `${variable} ${resolve(path)} cannot be read (${errno(err) ?? (err as Error).message}): point it at a readable PEM file`,
      );
    }
  };
  const cert = read('HUB_WATCH_TLS_CERT_FILE', tls.certFile);
  const key = read('HUB_WATCH_TLS_KEY_FILE', tls.keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new StartupError(
      `HUB_WATCH_TLS_CERT_FILE and HUB_WATCH_TLS_KEY_FILE are not a PEM certificate and its private key (${(err as Error).message.split('\n')[0]}): point them at a matching pair`,
    );
  }
}
