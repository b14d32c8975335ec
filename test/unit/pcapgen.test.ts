// The bench's traffic and l3fwd EM's rules for it (bench/pcapgen.ts): EM
// forwards only what has a rule, so every 5-tuple of the pcap must have one,
// and a rule l3fwd would read as another flow (field order) or twice (flows
// that differ only in their label share a 5-tuple) fails the bench.
import { expect } from 'chai';

import { emRulesV6, flowAt, flowWithin, UDP_DST_PORT, UDP_SRC_PORT } from '../../bench/pcapgen';

describe('bench pcapgen: l3fwd EM rules', () => {
  it('one rule per flow of the pcap: R<dst> <src> <dst port> <src port> 0x11 <port 1>', () => {
    const lines = emRulesV6(3).trimEnd().split('\n');
    expect(lines).to.have.length(3);
    lines.forEach((line, i) => {
      const f = flowAt(i);
      expect(line).to.equal(`R${f.dst} ${f.src} ${UDP_DST_PORT} ${UDP_SRC_PORT} 0x11 1`);
    });
  });

  it("the --routes destinations replace the flows' own, and a shared 5-tuple is one rule", () => {
    const dsts = ['2001:db8:aa::1', '2001:db8:bb::2'];
    expect(flowWithin(3, dsts).dst).to.equal('2001:db8:bb::2');
    // 500 flows over 250 sources (i % 250) and 2 destinations (i % 2): flows i and i + 250 share
    // both (250 is even), so 250 distinct 5-tuples.
    const lines = emRulesV6(500, dsts).trimEnd().split('\n');
    expect(new Set(lines).size).to.equal(lines.length);
    expect(lines).to.have.length(250);
    for (const line of lines) expect(line).to.match(/^R2001:db8:(aa::1|bb::2) 2001:db8:1::[0-9a-f]+ 9 10000 0x11 1$/);
  });
});
