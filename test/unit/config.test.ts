import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { hostname } from 'node:os';
import { describe, it, expect } from 'vitest';
import { ConfigError, ENV_VARS, loadConfig } from '../../src/config.js';

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not throw one). */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

/** The variable names a ConfigError's message reports, one per `  NAME: reason` line. */
function namedVars(err: ConfigError): string[] {
  return err.message
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(':')[0] ?? '');
}

const SECRET_32 = 'x'.repeat(32);
const pem = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

describe('loadConfig defaults', () => {
  const cfg = loadConfig({});

  it('uses the documented defaults for an empty environment', () => {
    expect(cfg.port).toBe(3000);
    expect(cfg.host).toBe('0.0.0.0');
    expect(cfg.dataDir).toBe('./data');
    expect(cfg.databaseUrl).toBe('sqlite:./data/hub.sqlite');
    expect(cfg.h3Resolution).toBe(9);
    expect(cfg.logLevel).toBe('info');
    expect(cfg.trustProxy).toBe(false);
    expect(cfg.redisUrl).toBeUndefined();
    expect(cfg.jwtSecret).toBeUndefined();
    expect(cfg.provisioningKey).toBeUndefined();
    expect(cfg.externalIssuer).toBeUndefined();
    // Resolved once, here: every part of the hub names the node the same way.
    expect(cfg.nodeId).toBe(`${hostname()}-${process.pid}`);
    expect(cfg.accessTokenTtlS).toBe(900);
    expect(cfg.refreshTokenTtlS).toBe(30 * 86_400);
    expect(cfg.deviceTokenTtlS).toBe(365 * 86_400);
    expect(cfg.socketRate).toEqual({ points: 30, windowS: 1 });
    expect(cfg.maxEventBytes).toBe(64 * 1024);
    expect(cfg.maxHttpBodyBytes).toBe(64 * 1024);
  });

  it('puts the default SQLite file in the configured data dir (trailing slash trimmed)', () => {
    expect(loadConfig({ HUB_DATA_DIR: '/var/lib/hub/' }).databaseUrl).toBe('sqlite:/var/lib/hub/hub.sqlite');
    expect(loadConfig({ HUB_DATA_DIR: '/srv/hub' }).databaseUrl).toBe('sqlite:/srv/hub/hub.sqlite');
  });

  it('returns a frozen object (assignment throws in strict-mode ESM)', () => {
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.socketRate)).toBe(true);
    expect(() => {
      (cfg as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (cfg.socketRate as { points: number }).points = 1;
    }).toThrow(TypeError);
    expect(cfg.port).toBe(3000);
  });

  it('reads only the env object it is given', () => {
    const env = { PORT: '4000', HUB_H3_RES: '7', HUB_LOG_LEVEL: 'debug', HUB_TRUST_PROXY: '1' };
    const c = loadConfig(env);
    expect(c.port).toBe(4000);
    expect(c.h3Resolution).toBe(7);
    expect(c.logLevel).toBe('debug');
    expect(c.trustProxy).toBe(true);
  });

  it('accepts the documented URL schemes and the boundary values', () => {
    const c = loadConfig({
      PORT: '65535',
      DATABASE_URL: 'postgres://u:p@db/hub',
      REDIS_URL: 'rediss://cache:6380',
      HUB_JWT_SECRET: SECRET_32,
      HUB_PROVISIONING_KEY: 'k'.repeat(16),
      HUB_H3_RES: '15',
    });
    expect(c.port).toBe(65535);
    expect(c.databaseUrl).toBe('postgres://u:p@db/hub');
    expect(c.redisUrl).toBe('rediss://cache:6380');
    expect(c.jwtSecret).toBe(SECRET_32);
    expect(c.provisioningKey).toBe('k'.repeat(16));
    expect(c.h3Resolution).toBe(15);
    expect(loadConfig({ PORT: '0', HUB_H3_RES: '0' }).h3Resolution).toBe(0);
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/hub' }).databaseUrl).toBe('postgresql://db/hub');
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' }).databaseUrl).toBe('sqlite:/tmp/x.sqlite');
    expect(loadConfig({ REDIS_URL: 'redis://cache' }).redisUrl).toBe('redis://cache');
  });
});

describe('loadConfig rejects bad values, naming the variable', () => {
  const cases: [string, NodeJS.ProcessEnv][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['REDIS_URL', { REDIS_URL: 'http://x' }],
    ['HUB_JWT_SECRET', { HUB_JWT_SECRET: 'x'.repeat(31) }],
    ['HUB_PROVISIONING_KEY', { HUB_PROVISIONING_KEY: 'k'.repeat(15) }],
    ['HUB_LOG_LEVEL', { HUB_LOG_LEVEL: 'loud' }],
    ['HUB_H3_RES', { HUB_H3_RES: '16' }],
    ['HUB_TRUST_PROXY', { HUB_TRUST_PROXY: 'yes' }],
    ['HUB_ACCESS_TOKEN_TTL_S', { HUB_ACCESS_TOKEN_TTL_S: '10' }],
  ];

  it.each(cases)('%s (%j)', (name, env) => {
    const err = configError(env);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(`${name}:`);
    expect(namedVars(err)).toEqual([name]);
  });

  it('names every bad variable in one message', () => {
    const err = configError({
      PORT: 'abc',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'http://x',
      HUB_JWT_SECRET: 'short',
      HUB_PROVISIONING_KEY: 'short',
      HUB_LOG_LEVEL: 'loud',
      HUB_H3_RES: '16',
    });
    expect(new Set(namedVars(err))).toEqual(
      new Set(['PORT', 'DATABASE_URL', 'REDIS_URL', 'HUB_JWT_SECRET', 'HUB_PROVISIONING_KEY', 'HUB_LOG_LEVEL', 'HUB_H3_RES']),
    );
  });

  it('every reported name is a declared variable', () => {
    const err = configError({ PORT: 'abc', HUB_LOG_LEVEL: 'loud' });
    for (const name of namedVars(err)) expect(ENV_VARS).toContain(name);
  });
});

describe('outside issuer settings', () => {
  it('HUB_EXTERNAL_ISSUER without the public key fails, naming both', () => {
    const err = configError({ HUB_EXTERNAL_ISSUER: 'https://id.example.com/' });
    expect(err.message).toContain('HUB_EXTERNAL_ISSUER_PUBLIC_KEY');
    expect(err.message).toContain('HUB_EXTERNAL_ISSUER ');
  });

  it('the outside geolocation provider is off by default, and configured only with its URL', () => {
    expect(loadConfig({}).geolocation).toBeUndefined();
    const c = loadConfig({
      HUB_GEOLOCATION_URL: 'https://www.googleapis.com/geolocation/v1/geolocate',
      HUB_GEOLOCATION_API_KEY: 'k',
      HUB_GEOLOCATION_TIMEOUT_MS: '800',
    });
    expect(c.geolocation).toEqual({
      url: 'https://www.googleapis.com/geolocation/v1/geolocate',
      apiKey: 'k',
      timeoutMs: 800,
      cacheEntries: 10_000,
    });
    expect(namedVars(configError({ HUB_GEOLOCATION_API_KEY: 'k' }))).toEqual(['HUB_GEOLOCATION_API_KEY']);
    expect(namedVars(configError({ HUB_GEOLOCATION_URL: 'ftp://geo.example.com/' }))).toEqual(['HUB_GEOLOCATION_URL']);
    expect(namedVars(configError({ HUB_GEOLOCATION_URL: 'http://[::1/geolocate' }))).toEqual(['HUB_GEOLOCATION_URL']);
    expect(namedVars(configError({ HUB_GEOLOCATION_TIMEOUT_MS: '50', HUB_GEOLOCATION_CACHE_ENTRIES: '0' }))).toEqual([
      'HUB_GEOLOCATION_TIMEOUT_MS',
      'HUB_GEOLOCATION_CACHE_ENTRIES',
    ]);
  });

  it('the public key without the issuer fails too', () => {
    const err = configError({ HUB_EXTERNAL_ISSUER_PUBLIC_KEY: pem });
    expect(err.message).toContain('HUB_EXTERNAL_ISSUER_PUBLIC_KEY');
  });

  it('both set gives an externalIssuer with the audience', () => {
    const c = loadConfig({
      HUB_EXTERNAL_ISSUER: 'https://id.example.com/',
      HUB_EXTERNAL_ISSUER_PUBLIC_KEY: pem,
      HUB_EXTERNAL_AUDIENCE: 'kidwatch',
    });
    expect(c.externalIssuer).toEqual({ issuer: 'https://id.example.com/', publicKey: pem, audience: 'kidwatch' });
    expect(Object.isFrozen(c.externalIssuer)).toBe(true);
  });

  it('unescapes a PEM passed on one line with literal "\\n"', () => {
    const oneLine = pem.replace(/\n/g, '\\n');
    expect(oneLine).not.toContain('\n');
    const c = loadConfig({ HUB_EXTERNAL_ISSUER: 'iss', HUB_EXTERNAL_ISSUER_PUBLIC_KEY: oneLine });
    expect(c.externalIssuer?.publicKey).toBe(pem);
    expect(c.externalIssuer?.publicKey).not.toContain('\\n');
    expect(() => createPublicKey(c.externalIssuer?.publicKey ?? '')).not.toThrow();
    expect(c.externalIssuer?.audience).toBeUndefined();
  });
});

describe('empty strings count as unset', () => {
  it('an empty string takes the default', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const name of ENV_VARS) env[name] = '';
    const c = loadConfig(env);
    expect(c).toEqual(loadConfig({}));
    expect(c.port).toBe(3000);
    expect(c.logLevel).toBe('info');
    expect(c.databaseUrl).toBe('sqlite:./data/hub.sqlite');
  });

  it('empty or blank optional secrets are unset, not "too short"', () => {
    const c = loadConfig({ HUB_JWT_SECRET: '', HUB_PROVISIONING_KEY: '   ', REDIS_URL: '', DATABASE_URL: ' ' });
    expect(c.jwtSecret).toBeUndefined();
    expect(c.provisioningKey).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.databaseUrl).toBe('sqlite:./data/hub.sqlite');
  });

  it('an empty issuer with an empty key is no outside issuer', () => {
    expect(loadConfig({ HUB_EXTERNAL_ISSUER: '', HUB_EXTERNAL_ISSUER_PUBLIC_KEY: '' }).externalIssuer).toBeUndefined();
  });
});
