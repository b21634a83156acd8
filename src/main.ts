// Composition root: config → logger → store → backplane (memory, or Redis with REDIS_URL) →
// media → push provider → services → hub (transports) → listen, and the SIGTERM drain. The only
// file that chooses implementations.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backplane } from './backplane/backplane.js';
import { memoryBackplane } from './backplane/memory.js';
import { openRedisBackplane } from './backplane/redis.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { createHub } from './hub.js';
import { createLogger } from './logger.js';
import { audioConversionAvailable, useFfmpeg } from './media/audio-convert.js';
import { openMedia } from './media/workers.js';
import { createInstallationSenders, createPushProvider } from './push/index.js';
import { createMailer } from './mail/mailer.js';
import { createServices } from './services.js';
import {
  StartupError,
  checkWatchTls,
  explainListenError,
  explainStoreError,
  lockSqlite,
  prepareDataDir,
  sqlitePath,
} from './startup.js';
import { openStore, type Store } from './store/store.js';

/** A secret from the data dir, created at random on first start and kept (mode 0600). */
function keptSecret(config: Config, file: string, make: () => string): string {
  const path = join(config.dataDir, file);
  try {
    writeFileSync(path, make(), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(path, 'utf8').trim();
}

// A rejection nobody handled (e.g. the Redis adapter publishing while Redis is down) is logged;
// it must not take down a node that still serves its clients.
function keepServing(logger: { error: (o: object, m: string) => void }): void {
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, config.nodeId);
  keepServing(logger);
  prepareDataDir(config.dataDir);
  const dbFile = sqlitePath(config.databaseUrl);
  const unlock = dbFile ? lockSqlite(dbFile) : () => undefined;
  process.on('exit', unlock);
  let store: Store;
  try {
    store = await openStore(config.databaseUrl);
  } catch (err) {
    throw explainStoreError(err, config.databaseUrl) ?? err;
  }
  const jwtSecret = config.jwtSecret ?? keptSecret(config, 'jwt-secret', () => randomBytes(48).toString('base64url'));
  const fieldKey =
    config.fieldKey ??
    Buffer.from(
      keptSecret(config, 'field-key', () => randomBytes(32).toString('base64')),
      'base64',
    );
  const media = await openMedia(config.media, logger);
  // Voice conversion (ffmpeg, optional): said once at start, like the media workers.
  useFfmpeg(config.audio.ffmpegPath);
  void audioConversionAvailable().then((ok) =>
    ok
      ? logger.info({ ffmpeg: config.audio.ffmpegPath }, 'voice conversion: ffmpeg with AMR-NB and Opus found')
      : logger.warn(
          { ffmpeg: config.audio.ffmpegPath },
          'voice conversion unavailable or partial: no ffmpeg with libopencore_amrnb and libopus (Debian: ffmpeg libavcodec-extra)',
        ),
  );
  checkWatchTls(config.watch.tls);
  const backplane: Backplane = config.redisUrl
    ? await openRedisBackplane(
        {
          url: config.redisUrl,
          nodeId: config.nodeId,
          sharded: config.redisSharded,
          heartbeatMs: config.nodeHeartbeatMs,
          prefix: config.redisPrefix,
        },
        logger,
      )
    : memoryBackplane(config.nodeId);
  const pushProvider = createPushProvider(config, logger);
  // Password resets by email; without HUB_SMTP_URL they answer UNAVAILABLE.
  const mailer = config.smtp ? createMailer(config.smtp.url, { from: config.smtp.from }) : undefined;
  logger.info({ mail: mailer ? mailer.describe() : 'off (HUB_SMTP_URL unset)' }, 'password-reset mail');
  let installationSenders;
  try {
    installationSenders = createInstallationSenders(config);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const services = createServices(
    { store, logger, backplane, media, pushProvider, installationSenders, mailer, jwtSecret, fieldKey },
    config,
  );
  const hub = await createHub(services, config);
  let port: number;
  try {
    port = await hub.listen();
  } catch (err) {
    const watch = err as { watchVariable?: string; watchPort?: number };
    const explained = watch.watchVariable
      ? explainListenError(err, watch.watchPort ?? 0, config.host, watch.watchVariable)
      : explainListenError(err, config.port, config.host);
    throw explained ?? err;
  }
  logger.info(
    {
      port,
      watchTcp: hub.watchPorts.tcp,
      watchTls: hub.watchPorts.tls,
      store: store.dialect,
      provisioning: Boolean(config.provisioningKey),
    },
    'hub listening',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    const hardStop = setTimeout(() => process.exit(1), config.drainTimeoutMs + 5000);
    hardStop.unref();
    // Drain first, while Fastify still answers (its close answers everything with 503).
    hub
      .drain()
      .then(() => hub.close())
      .then(async () => {
        // Reset codes already answered for are still mailed (the hard stop bounds the wait).
        await services.passwordReset.settled();
        media.close();
        await backplane.close();
        await store.close();
      })
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  // A mistake the operator can fix is one line; anything else keeps its stack for a bug report.
  const text = err instanceof StartupError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`hub failed to start: ${text}\n`);
  process.exit(1);
});
