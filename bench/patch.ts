// Session data merge patch benchmark.
//
//   npm run bench -- patch [--keys 50000] [--old-keys 10000] [--small 10000] [--gateway-small 2000] [--writers 8]
//
// 1. The database's own time (EXPLAIN ANALYZE "Execution Time") of jsonb_merge_patch on one
//    `--keys`-key patch, onto {} and onto a document of as many keys (three quarters replaced, a
//    quarter removed), for the linear function (drizzle/*_merge_patch_linear) and, at
//    `--old-keys`, for the jsonb_set loop it replaced (drizzle/*_merge_patch), created
//    side by side under other names in a scratch database.
// 2. `--small` one-key patches in a row onto a growing document, in the database (its own
//    clock), for both versions.
// 3. Through a gateway (a child process, MAX_PATCH_KEYS raised to `--keys`): the `--keys`-key
//    patch as one mutation, end to end; then `--gateway-small` one-key patches, `--writers` at
//    once, on one session: patches per second end to end. Each answer carries the whole merged
//    document, so this rate falls as the document grows whatever the merge costs.
//
// The database is a fresh one on BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the local
// server), dropped afterwards.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { graphqlRequest } from '../test/helpers/graphql-client.ts';
import { startGateway } from './subscriptions/support.ts';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = Number(index >= 0 ? process.argv[index + 1] : fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
  return value;
}

const KEYS = option('keys', 50_000);
const OLD_KEYS = option('old-keys', 10_000);
const SMALL = option('small', 10_000);
const GATEWAY_SMALL = option('gateway-small', 2_000);
const WRITERS = option('writers', 8);
const SERVER_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const DRIZZLE = new URL('../drizzle/', import.meta.url);

function migration(suffix: string): string {
  const dir = readdirSync(DRIZZLE).find((name) => name.endsWith(suffix));
  if (!dir) throw new Error(`no drizzle/*${suffix}`);
  return readFileSync(new URL(`${dir}/migration.sql`, DRIZZLE), 'utf8');
}

const patchOf = (count: number, value: (i: number) => unknown) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, value(i)]));

async function main() {
  const name = `sky_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  try {
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    // Both versions side by side, each recursing into itself under its own name.
    await sql.unsafe(migration('_merge_patch').replaceAll('jsonb_merge_patch', 'merge_patch_jsonb_set'));
    await sql.unsafe(migration('_merge_patch_linear').replaceAll('jsonb_merge_patch', 'merge_patch_linear'));
    // From a table, so the planner cannot fold the IMMUTABLE call into a constant at plan time.
    await sql`create temporary table input (target jsonb, patch jsonb)`;
    const executionMs = async (fn: string, target: object, patch: object) => {
      await sql`truncate input`;
      await sql`insert into input values (${JSON.stringify(target)}::text::jsonb, ${JSON.stringify(patch)}::text::jsonb)`;
      const [row] = await sql.unsafe(`explain (analyze, format json) select octet_length(${fn}(target, patch)::text) from input`);
      return (row!['QUERY PLAN'] as any)[0]['Execution Time'] as number;
    };
    console.log(`${'one patch (database time)'.padEnd(66)} ${'ms'.padStart(10)}`);
    for (const [fn, keys] of [['merge_patch_linear', KEYS], ['merge_patch_jsonb_set', OLD_KEYS]] as const) {
      if (keys === 0) continue;
      const patch = patchOf(keys, (i) => (i % 4 === 0 ? null : `v${i}`));
      const onEmpty = await executionMs(fn, {}, patch);
      const onFull = await executionMs(fn, patchOf(keys, (i) => i), patch);
      const bytes = Buffer.byteLength(JSON.stringify(patch));
      console.log(`${`${fn}: ${keys} keys (${(bytes / 1e6).toFixed(2)} MB) onto {}`.padEnd(66)} ${onEmpty.toFixed(1).padStart(10)}`);
      console.log(`${`${fn}: ${keys} keys onto ${keys} keys`.padEnd(66)} ${onFull.toFixed(1).padStart(10)}`);
    }
    // `--small` one-key patches in a row onto a document that grows to `--small` keys, inside
    // the database (a plpgsql loop timing itself), for both versions.
    await sql.unsafe(`create function bench_small(fn text, n int) returns double precision language plpgsql as $$
      declare doc jsonb := '{}'; started timestamptz := clock_timestamp();
      begin
        for i in 1..n loop
          execute format('select %I($1, $2)', fn) into doc using doc, jsonb_build_object('k' || i, i);
        end loop;
        return extract(epoch from clock_timestamp() - started) * 1000;
      end $$`);
    for (const fn of ['merge_patch_linear', 'merge_patch_jsonb_set']) {
      if (SMALL === 0) break;
      const [row] = await sql.unsafe(`select bench_small($1, $2) as ms`, [fn, SMALL]);
      const ms = Number(row!.ms);
      console.log(`${`${fn}: ${SMALL} one-key patches in a row (database time)`.padEnd(66)} ${ms.toFixed(0).padStart(10)} ms  (${((SMALL * 1000) / ms).toFixed(0)}/s)`);
    }
    await sql.end();

    if (GATEWAY_SMALL > 0) {
      const gateway = await startGateway({ DATABASE_URL: url.toString(), ADMIN_TOKEN, MAX_PATCH_KEYS: String(Math.max(KEYS, 10_000)) });
      try {
        const gql = (query: string, variables: Record<string, unknown>) => graphqlRequest(gateway.url, ADMIN_TOKEN, query, variables);
        const app = (await gql(`mutation($n: String!) { createApplication(input: { name: $n }) { id } }`, { n: name })).createApplication.id;
        const session = (await gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app, name } }))
          .createSession.id;
        const PATCH = `mutation($a: ID!, $s: ID!, $d: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $d) }`;
        const big = patchOf(KEYS, (i) => `v${i}`);
        const bigSession = (await gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app, name: `${name}-big` } }))
          .createSession.id;
        const beforeBig = performance.now();
        await gql(PATCH, { a: app, s: bigSession, d: big });
        console.log(`${`one ${KEYS}-key patch through the gateway`.padEnd(66)} ${(performance.now() - beforeBig).toFixed(0).padStart(10)} ms`);
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: WRITERS }, async () => {
            for (let i = next++; i < GATEWAY_SMALL; i = next++) await gql(PATCH, { a: app, s: session, d: { [`k${i}`]: i } });
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        console.log(`${`${GATEWAY_SMALL} one-key patches, ${WRITERS} writers, through the gateway`.padEnd(66)} ${(GATEWAY_SMALL / seconds).toFixed(0).padStart(10)} /s`);
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  }
}

await main();
