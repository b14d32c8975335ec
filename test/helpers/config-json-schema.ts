// A standard draft-07 validator (ajv) over the shipped JSON Schema
// (dpdk-config/fastpath.schema.json): what an editor checks a config against.
import Ajv from 'ajv';
import * as fs from 'fs';
import * as path from 'path';

export const schemaFile = path.join(__dirname, '..', '..', 'dpdk-config', 'fastpath.schema.json');

let validate: ReturnType<Ajv['compile']> | undefined;

/** ajv's verdict on `doc`: null when valid, else the first error's path and keyword. */
export function jsonSchemaVerdict(doc: unknown): { instancePath: string; keyword: string } | null {
  // strict: a keyword draft-07 does not define would be an error.
  validate ??= new Ajv({ strict: true, allErrors: false }).compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
  if (validate(doc)) return null;
  const [e] = validate.errors!;
  return { instancePath: e.instancePath, keyword: e.keyword };
}
