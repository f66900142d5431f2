// Admission of heavy operations. A wide read (the frontend's nested page: 50 sessions × their
// participants and media) holds its rows, its result tree and their garbage while it runs; with
// many of them in flight at once on a few cores, the young generation fills with live data and
// every scavenge copies it, so each costs more than it would alone (N at 32 connections: 4.7 ms
// of CPU per request against 4.1 ms at 8). Light operations (a session by id) gain from running
// many at once instead: their database round trips overlap. So operations whose cost (the cost
// rule's, with page sizes given as variables read) reaches HEAVY_OPERATION_COST run at most
// HEAVY_OPERATION_CONCURRENCY at a time, first come first served; the others are not held.
// The verdict is made once per document and page sizes (at its first execution, which is not
// held) and remembered by query text, so later JSON POSTs with that text are held before Yoga
// sees them; GET requests and WebSocket operations are not held.
import type { ServerResponse } from 'node:http';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import type { Plugin } from '@envelop/core';
import { GraphQLError, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Gauge } from 'prom-client';
import { sizesOf, sizeVariablesOf, withPageSizes } from './operation-plan.ts';

/** At most `limit` holders at once; the rest wait in arrival order. */
export class Admission {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly gauges?: { running: Gauge; waiting: Gauge },
  ) {}

  /** Resolves with the release of a turn when one is free; releasing twice is releasing once. */
  async acquire(): Promise<() => void> {
    if (this.running < this.limit) this.running++;
    else {
      this.gauges?.waiting.inc();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      this.gauges?.waiting.dec();
    }
    this.gauges?.running.inc();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.gauges?.running.dec();
      // The turn passes to the next in line, so `running` stays as it is.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}

/** Verdicts kept per query text, one per combination of page sizes (bounded like the cost plan). */
const VERDICTS_PER_DOCUMENT = 64;

/** Whether the operation's cost, with its page-size variables as literals, reaches `threshold`. */
export function reachesCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, threshold: number): boolean {
  try {
    // maxCost is exclusive in the rule: a cost of exactly `threshold` counts as heavy.
    return validate(schema, withPageSizes(document, variables) ?? document, [costLimitRule({ maxCost: threshold - 1 })]).length > 0;
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return true;
  }
}

/** Query texts seen heavy, with the variables that give their page sizes: bounded, oldest out first. */
export class HeavyOperations {
  private readonly texts = new Map<string, { sizeVariables: string[]; verdicts: Map<string, boolean> }>();

  constructor(private readonly maxTexts = 1000) {}

  /** The verdict for a text and its page sizes, or undefined when not decided yet. */
  verdict(text: string, sizes: string): boolean | undefined {
    return this.texts.get(text)?.verdicts.get(sizes);
  }

  record(text: string, sizeVariables: string[], sizes: string, heavy: boolean): void {
    let entry = this.texts.get(text);
    if (!entry) {
      if (this.texts.size >= this.maxTexts) this.texts.delete(this.texts.keys().next().value!);
      this.texts.set(text, (entry = { sizeVariables, verdicts: new Map() }));
    }
    if (entry.verdicts.size < VERDICTS_PER_DOCUMENT) entry.verdicts.set(sizes, heavy);
  }

  /** Whether a JSON request body asks for an operation already found heavy with these page sizes. */
  knownHeavy(body: Buffer): boolean {
    if (this.texts.size === 0) return false;
    let params: { query?: unknown; variables?: unknown };
    try {
      params = JSON.parse(body.toString('utf8'));
    } catch {
      return false;
    }
    if (typeof params?.query !== 'string') return false;
    const entry = this.texts.get(params.query);
    if (!entry) return false;
    const variables = (params.variables && typeof params.variables === 'object' ? params.variables : {}) as Record<string, unknown>;
    return entry.verdicts.get(sizesOf(entry.sizeVariables, variables)) === true;
  }
}

/**
 * The envelop plugin: decides once per query text and page sizes whether an operation is heavy,
 * and remembers the verdict by that text, so that the next request with it is admitted
 * (src/server.ts) before any of its work starts: parsing its request, building its context,
 * executing, serialising and writing the answer all take their turn together.
 */
export function useHeavyOperations(options: { heavy: HeavyOperations; heavyCost: number }): Plugin {
  return {
    onExecute({ args }) {
      const text = args.document.loc?.source.body;
      if (!text) return;
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const sizeVariables = sizeVariablesOf(args.schema, args.document);
      const sizes = sizesOf(sizeVariables, variables);
      // Decided once per text and page sizes: a known one costs two map lookups.
      if (options.heavy.verdict(text, sizes) !== undefined) return;
      const heavy = reachesCost(args.schema, args.document, variables, options.heavyCost);
      options.heavy.record(text, sizeVariables, sizes, heavy);
    },
  };
}

/**
 * Runs an HTTP request's work in its turn. The turn ends when the work is done or when the
 * response closes, whichever is first: a client that goes away mid-answer (a load generator
 * stopping, a closed tab) must not keep it, as the work's promise may then never settle.
 */
export async function admitted(admission: Admission, res: ServerResponse, work: () => unknown): Promise<void> {
  const release = await admission.acquire();
  res.once('close', release);
  try {
    // The client went away while it waited: its turn is over.
    if (!res.destroyed) await work();
  } finally {
    res.off('close', release);
    release();
  }
}
