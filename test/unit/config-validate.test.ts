// `fastpath config validate`: the shipped configs pass (checked as portable:
// the bare-metal one asks for more CPUs than a test machine has), a broken
// one fails with its field path and file:line:col, and the exit status says so.
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { runConfigCommand, validateConfigs } from '../../lib/cli/config-cmd';

describe('fastpath config validate', () => {
  const configs = fs
    .readdirSync(path.join(__dirname, '..', '..', 'dpdk-config'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(__dirname, '..', '..', 'dpdk-config', f));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-validate-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes every shipped config (portable)', () => {
    expect(configs.length).to.be.greaterThan(0);
    for (const v of validateConfigs(configs, true)) expect(v, JSON.stringify(v)).to.include({ ok: true });
  });

  it('names the field and its place in the file', () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'ports:\n  - name: eth0\n    device: net_null0\nsiftr:\n  enabled: true\n');
    const [v] = validateConfigs([bad], true);
    expect(v.ok).to.equal(false);
    expect(v.error).to.include({ code: 'EINVAL', path: 'siftr.logfile' });
    expect(v.error!.message).to.match(new RegExp(`^${bad}:5:3: siftr\\.logfile`));
  });

  it('exits 0 when all are valid, 1 when one is not, 2 for usage errors', () => {
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    (process.stdout as unknown as { write: () => boolean }).write = () => true;
    (process.stderr as unknown as { write: () => boolean }).write = () => true;
    try {
      const bad = path.join(dir, 'bad2.yaml');
      fs.writeFileSync(bad, 'ports: 3\n');
      expect(runConfigCommand(['validate', '--portable', ...configs])).to.equal(0);
      expect(runConfigCommand(['validate', '--portable', ...configs, bad])).to.equal(1);
      expect(runConfigCommand(['validate'])).to.equal(2);
      expect(runConfigCommand(['validate', '--nope', bad])).to.equal(2);
      expect(runConfigCommand(['check'])).to.equal(2);
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
  });
});
