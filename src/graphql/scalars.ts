import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { GraphQLUpload } from 'graphql-upload-minimal';
import { inClientTimeWindow, OUT_OF_WINDOW } from '../domain/timestamps.ts';
import { builder } from './builder.ts';

const badValue = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

function toDate(value: unknown): Date {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw badValue('DateTime must be an ISO-8601 string with a time zone');
  return date;
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date and time with time zone, e.g. 2026-11-22T10:00:00.000Z.',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: (value) => {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
      throw badValue('DateTime must be an ISO-8601 string with a time zone');
    }
    const date = toDate(value);
    // Every DateTime input comes from a client: a sane window before it reaches the database.
    if (!inClientTimeWindow(date)) throw badValue(`DateTime ${OUT_OF_WINDOW}`);
    return date;
  },
});

function literalValue(node: ValueNode, variables?: Record<string, unknown> | null): unknown {
  switch (node.kind) {
    case Kind.NULL:
      return null;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return node.value;
    case Kind.LIST:
      return node.values.map((value) => literalValue(value, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, literalValue(field.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[node.name.value];
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => literalValue(node, variables),
});

function toStringMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badValue('StringMap must be a JSON object');
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw badValue(`StringMap values must be strings; "${key}" is not`);
  }
  return value as Record<string, string>;
}

builder.scalarType('StringMap', {
  description: 'A JSON object whose values are all strings; anything else is rejected.',
  serialize: (value) => toStringMap(value),
  parseValue: (value) => toStringMap(value),
  parseLiteral: (node, variables) => toStringMap(literalValue(node, variables)),
});

builder.scalarType('BigInt', {
  description: 'An integer beyond 32 bits, serialised as a JSON number.',
  serialize: (value) => Number(value),
  parseValue: (value) => {
    if (typeof value !== 'number' && typeof value !== 'string') throw badValue('BigInt must be an integer');
    try {
      return BigInt(value);
    } catch {
      throw badValue('BigInt must be an integer');
    }
  },
});

builder.addScalarType('Upload', GraphQLUpload as never, {
  description: 'A file sent as a part of a GraphQL multipart request.',
});
