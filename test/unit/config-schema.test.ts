// The published JSON Schema (`fastpath config schema`, shipped as
// dpdk-config/fastpath.schema.json): the committed file is what the command
// prints, the example configs point editors at it, and a standard draft-07
// validator (ajv, what editors run in spirit) accepts every shipped config
// and refuses broken ones at the field's path.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

import { configSchemaText, runConfigCommand } from '../../lib/cli/config-cmd';
import { normalizeConfig } from '../../lib/config';
import { updateReference } from '../../lib/config/reference';
import { jsonSchemaVerdict, schemaFile } from '../helpers/config-json-schema';

const configDir = path.join(__dirname, '..', '..', 'dpdk-config');
const examples = fs
  .readdirSync(configDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(configDir, f));

describe('fastpath config schema', () => {
  it('the committed dpdk-config/fastpath.schema.json is what `fastpath config schema` prints (regenerate: fastpath config schema > dpdk-config/fastpath.schema.json)', () => {
    expect(fs.readFileSync(schemaFile, 'utf8')).to.equal(configSchemaText());
  });

  it('prints draft-07 JSON Schema and exits 0', () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    (process.stdout as unknown as { write: (s: string) => boolean }).write = (s: string) => chunks.push(s) > 0;
    let status: number;
    try {
      status = runConfigCommand(['schema']);
    } finally {
      process.stdout.write = write;
    }
    expect(status).to.equal(0);
    const schema = JSON.parse(chunks.join(''));
    expect(schema.$schema).to.equal('http://json-schema.org/draft-07/schema#');
    expect(schema.required).to.deep.equal(['ports']);
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.properties.ports.items.properties.mtu).to.include({ type: 'integer', minimum: 1280, maximum: 9600, default: 1500 });
  });

  it('every example config names the schema on its first line', () => {
    expect(examples.length).to.be.greaterThan(0);
    for (const file of examples) {
      const first = fs.readFileSync(file, 'utf8').split('\n')[0];
      expect(first, file).to.equal('# yaml-language-server: $schema=./fastpath.schema.json');
    }
  });

  it('a draft-07 validator accepts every example config', () => {
    for (const file of examples) expect(jsonSchemaVerdict(parse(fs.readFileSync(file, 'utf8'))), file).to.equal(null);
  });

  it('a draft-07 validator refuses broken configs at the field', () => {
    const base = { ports: [{ name: 'eth0', device: 'net_null0' }] };
    const cases: [unknown, string][] = [
      [{ ...base, ports: [{ name: 'eth0', device: 'net_null0', mtu: 70000 }] }, '/ports/0/mtu'],
      [{ ...base, ports: [{ name: 'eth0', device: 'net_null0', rxDescriptors: 1000 }] }, '/ports/0/rxDescriptors'],
      [{ ...base, ports: [{ name: 'eth 0', device: 'net_null0' }] }, '/ports/0/name'],
      [{ ...base, eal: { logLevel: 'verbose' } }, '/eal/logLevel'],
      [{ ...base, flowCache: { maxFlows: 1 } }, '/flowCache'],
      [{ ...base, routes: [{ prefix: '::/0', nexthops: [{ dev: 'eth0' }] }] }, '/routes/0/nexthops'],
      [{ ...base, topology: { hosts: [{ name: 'h-1', port: 'eth0', address: '2001:db8::2/64', gateway: 'fe80::1' }] } }, '/topology/hosts/0/name'],
    ];
    for (const [doc, at] of cases) expect(jsonSchemaVerdict(doc), at).to.have.property('instancePath', at);
  });

  it('docs/configuration.md has a current field table for every section (regenerate: npx ts-node scripts/config-reference.ts)', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(updateReference(doc) === doc, 'a field table is stale').to.equal(true);
    const schema = JSON.parse(configSchemaText());
    for (const section of Object.keys(schema.properties)) expect(doc, section).to.include(`<!-- fields: ${section} -->`);
  });

  it("the page's example config is valid", () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    const example = /## Example\n\n```yaml\n([\s\S]*?)```/.exec(doc);
    expect(example, 'no example').to.not.equal(null);
    expect(() => normalizeConfig(parse(example![1]), { allowedCpus: [0, 1, 2, 3] })).to.not.throw();
  });
});
