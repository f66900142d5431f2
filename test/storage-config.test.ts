// S3_* and SHUTDOWN_TIMEOUT_MS: defaults, and one clear error per bad combination.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const base = { DATA_DIR: '/tmp/skylight-config-test', JWT_SECRET: 'x'.repeat(32) };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env });

describe('S3 configuration', () => {
  it('keeps media local unless S3_BUCKET is set', () => {
    expect(load({}).s3).toBeNull();
  });

  it('S3_ENDPOINT points at an S3-compatible server, path-style by default', () => {
    expect(
      load({ S3_BUCKET: 'media', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'key', S3_SECRET_ACCESS_KEY: 'secret' }).s3,
    ).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'media',
      region: 'us-east-1',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
      forcePathStyle: true,
    });
  });

  it('without S3_ENDPOINT it is AWS S3: virtual-hosted style, SDK credential chain', () => {
    expect(load({ S3_BUCKET: 'media', S3_REGION: 'eu-west-1' }).s3).toEqual({
      endpoint: null,
      bucket: 'media',
      region: 'eu-west-1',
      credentials: null,
      forcePathStyle: false,
    });
    expect(load({ S3_BUCKET: 'media', S3_ENDPOINT: 'https://s3.example.com', S3_FORCE_PATH_STYLE: 'false' }).s3?.forcePathStyle).toBe(false);
  });

  it.each([
    [{ S3_ENDPOINT: 'http://127.0.0.1:9000' }, 'S3_BUCKET is required when S3_ENDPOINT is set'],
    [{ S3_ACCESS_KEY_ID: 'key' }, 'S3_BUCKET is required when S3_ACCESS_KEY_ID is set'],
    [{ S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET must be a valid bucket name'],
    [{ S3_BUCKET: 'media', S3_ENDPOINT: 'ftp://x' }, 'S3_ENDPOINT must use http: or https:'],
    [{ S3_BUCKET: 'media', S3_ACCESS_KEY_ID: 'key' }, 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together'],
    [{ S3_BUCKET: 'media', S3_FORCE_PATH_STYLE: 'perhaps' }, 'S3_FORCE_PATH_STYLE must be true or false'],
    [{ SHUTDOWN_TIMEOUT_MS: '-1' }, 'SHUTDOWN_TIMEOUT_MS must be an integer'],
  ])('refuses %o', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it('SHUTDOWN_TIMEOUT_MS defaults to 10 seconds', () => {
    expect(load({}).shutdownTimeoutMs).toBe(10_000);
    expect(load({ SHUTDOWN_TIMEOUT_MS: '2500' }).shutdownTimeoutMs).toBe(2500);
  });
});
