import { readFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema, buildSchema, isObjectType, isInputObjectType, isInterfaceType, isEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/index.ts';

describe('schema.graphql', () => {
  it('is the printed Pothos schema (run npm run schema:print when this fails)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printSchema(lexicographicSortSchema(schema))}\n`);
  });

  it('describes every type, field, argument and enum value', () => {
    const undocumented: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) undocumented.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) undocumented.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) undocumented.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) undocumented.push(`${type.name}.${value.name}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('parses as SDL', () => {
    expect(() => buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'))).not.toThrow();
  });
});
