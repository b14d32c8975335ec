// parseSiftrLog / formatSiftrLog: a log written by the C formatter
// (native/test/tcpstat_test.c --log, which drives tcpstat.c and siftr.c)
// parses to the expected values and formats back to the same text; every
// malformed line is refused with its line number.
import { expect } from 'chai';
import { execFileSync } from 'child_process';

import { FastpathError } from '../../lib/errors';
import { formatSiftrLog, formatSiftrRecord, parseSiftrLog, SiftrRecord } from '../../lib/siftr-log';
import { buildCTest } from '../helpers/ctest';

const HEADER = 'enable_time_secs=1700000000\tenable_time_usecs=000123\tsiftrver=1.3.0\tsysname=fastpath\tsysver=0.1.0\tipmode=6';
const RECORD =
  'o,1234567890.000042,2001:db8::1,40000,2001:db8:85a3::8a2e:370:7334,443,' +
  '0,0,32,4194304,64256,9,7,4,1400,40125,1,134218240,0,0,0,0,0,2000,0,3735928559,191';
const FOOTER =
  'disable_time_secs=1700000000\tdisable_time_usecs=999999\t' +
  'num_inbound_tcp_pkts=5\tnum_outbound_tcp_pkts=7\ttotal_tcp_pkts=12\t' +
  'num_inbound_skipped_pkts_malloc=1\tnum_outbound_skipped_pkts_malloc=2\t' +
  'num_inbound_skipped_pkts_tcpcb=3\tnum_outbound_skipped_pkts_tcpcb=4\t' +
  'num_inbound_skipped_pkts_inpcb=5\tnum_outbound_skipped_pkts_inpcb=6\t' +
  'total_skipped_tcp_pkts=21\tflow_list=' +
  '2001:db8:1::10;40000-2001:db8:2::20;80,::ffff:192.0.2.1;1-::1;2,';

/** Expect parseSiftrLog(text) to throw EINVAL naming line `line` and matching `why`. */
function refuses(text: string, line: number, why: RegExp): void {
  let caught: unknown;
  try {
    parseSiftrLog(text);
  } catch (err) {
    caught = err;
  }
  expect(caught, text).to.be.instanceOf(FastpathError);
  const err = caught as FastpathError;
  expect(err.code).to.equal('EINVAL');
  expect(err.message).to.match(new RegExp(`^SIFTR log line ${line}: `));
  expect(err.message).to.match(why);
}

describe('SIFTR log parser', () => {
  it('parses the header, a record and the footer into typed fields', () => {
    const log = parseSiftrLog(`${HEADER}\n${RECORD}\n${FOOTER}\n`);
    expect(log.header).to.deep.equal({
      enableTimeSecs: 1700000000,
      enableTimeUsecs: 123,
      siftrver: '1.3.0',
      sysname: 'fastpath',
      sysver: '0.1.0',
      ipmode: 6,
    });
    expect(log.records).to.have.length(1);
    const r = log.records[0];
    expect(r).to.include({
      direction: 'o',
      timeSecs: 1234567890,
      timeUsecs: 42,
      localAddress: '2001:db8::1',
      localPort: 40000,
      foreignAddress: '2001:db8:85a3::8a2e:370:7334',
      foreignPort: 443,
      sndSsthresh: 0,
      sndCwnd: 0,
      tFlags2: 32,
      sndWnd: 4194304,
      rcvWnd: 64256,
      sndScale: 9,
      rcvScale: 7,
      connState: 4,
      maxSegSize: 1400,
      srtt: 40125,
      sackEnabled: 1,
      flags: 134218240,
      rto: 0,
      sndBufHiwater: 0,
      sndBufCc: 0,
      rcvBufHiwater: 0,
      rcvBufCc: 0,
      sentInflightBytes: 2000,
      tSegqlen: 0,
      flowid: 3735928559,
      flowtype: 191,
    });
    const f = log.footer;
    expect(f).to.not.equal(null);
    expect(f?.disableTimeUsecs).to.equal(999999);
    expect(f?.numInboundTcpPkts).to.equal(5n);
    expect(f?.totalTcpPkts).to.equal(12n);
    expect(f?.numOutboundSkippedPktsInpcb).to.equal(6n);
    expect(f?.totalSkippedTcpPkts).to.equal(21n);
    expect(f?.flowList).to.deep.equal([
      { localAddress: '2001:db8:1::10', localPort: 40000, foreignAddress: '2001:db8:2::20', foreignPort: 80 },
      { localAddress: '::ffff:192.0.2.1', localPort: 1, foreignAddress: '::1', foreignPort: 2 },
    ]);
    expect(formatSiftrLog(log)).to.equal(`${HEADER}\n${RECORD}\n${FOOTER}\n`);
  });

  it('reads a running log (no footer), CRLF line ends and IPv4 (ipmode=4) logs', () => {
    const log = parseSiftrLog(`${HEADER}\r\n${RECORD}\r\n`);
    expect(log.footer).to.equal(null);
    expect(log.records).to.have.length(1);
    const v4 = parseSiftrLog(
      `${HEADER.replace('ipmode=6', 'ipmode=4')}\ni,1.000001,10.0.0.1,22,10.0.0.2,5000,${'1,'.repeat(20)}1\n` +
        FOOTER.replace(/flow_list=.*/, 'flow_list=10.0.0.1;22-10.0.0.2;5000,'),
    );
    expect(v4.records[0]).to.include({ direction: 'i', localAddress: '10.0.0.1', flowtype: 1, timeUsecs: 1 });
    expect(v4.footer?.flowList).to.have.length(1);
    const empty = parseSiftrLog(`${HEADER}\n${FOOTER.replace(/flow_list=.*/, 'flow_list=')}\n`);
    expect(empty.records).to.have.length(0);
    expect(empty.footer?.flowList).to.deep.equal([]);
  });

  it('refuses malformed lines, naming the line', () => {
    refuses('', 1, /enable line/);
    refuses(`${RECORD}\n`, 1, /expected the enable line/);
    refuses(`${HEADER.replace('\tipmode=6', '')}\n`, 1, /expected 6 tab-separated fields/);
    refuses(`${HEADER.replace('sysname', 'sysnom')}\n`, 1, /"sysnom", expected "sysname"/);
    refuses(`${HEADER.replace('usecs=000123', 'usecs=123')}\n`, 1, /enable_time_usecs "123" is not six digits/);
    refuses(`${HEADER.replace('ipmode=6', 'ipmode=5')}\n`, 1, /ipmode 5/);
    refuses(`${HEADER}\n${RECORD.replace(/^o/, 'x')}\n`, 2, /direction "x"/);
    refuses(`${HEADER}\n${RECORD},7\n`, 2, /expected 27 comma-separated fields, got 28/);
    refuses(`${HEADER}\n${RECORD.replace('.000042', '.42')}\n`, 2, /time "1234567890.42"/);
    refuses(`${HEADER}\n${RECORD.replace('2001:db8::1', '2001:db8:::1')}\n`, 2, /local address "2001:db8:::1"/);
    refuses(`${HEADER}\n${RECORD.replace(',40000,', ',65536,')}\n`, 2, /local port 65536 is larger than 65535/);
    refuses(`${HEADER}\n${RECORD.replace('3735928559', '4294967296')}\n`, 2, /flowid 4294967296 is larger/);
    refuses(`${HEADER}\n${RECORD.replace(',40125,', ',-1,')}\n`, 2, /srtt "-1" is not a decimal number/);
    refuses(`${HEADER}\n${RECORD}\n\n${RECORD}\n`, 3, /empty line/);
    refuses(`${HEADER}\n${RECORD}\n${HEADER}\n`, 3, /second enable line/);
    refuses(`${HEADER}\n${FOOTER}\n${RECORD}\n`, 3, /after the disable line/);
    refuses(`${HEADER}\n${FOOTER.replace('total_tcp_pkts=12', 'total_tcp_pkts=x')}\n`, 2, /total_tcp_pkts "x"/);
    refuses(`${HEADER}\n${FOOTER.replace('\tflow_list=', '\tflows=')}\n`, 2, /"flows", expected "flow_list"/);
    refuses(`${HEADER}\n${FOOTER.slice(0, -1)}\n`, 2, /flow_list does not end with ","/);
    refuses(`${HEADER}\n${FOOTER.replace(';40000-', ';40000+')}\n`, 2, /flow_list entry/);
    refuses(`${HEADER}\n${FOOTER.replace('::1;2,', 'nope;2,')}\n`, 2, /flow_list foreign address "nope"/);
  });

  describe('with a log written by the C formatter', function () {
    this.timeout(60000);
    let built: ReturnType<typeof buildCTest> | undefined;
    let text = '';

    before(() => {
      built = buildCTest('tcpstat_test', ['datapath/tcpstat.c', 'control/siftr.c']);
      text = execFileSync(built.bin, ['--log'], { encoding: 'utf8' });
    });
    after(() => built?.dispose());

    it('parses it and formats it back to the same text', () => {
      const log = parseSiftrLog(text);
      expect(formatSiftrLog(log)).to.equal(text);
      expect(log.header).to.include({ siftrver: '1.3.0', sysname: 'fastpath', sysver: '0.1.0', ipmode: 6 });
      log.records.forEach((r: SiftrRecord, i: number) => {
        expect(formatSiftrRecord(r), `record ${i}`).to.equal(text.split('\n')[i + 1] + '\n');
      });
    });

    it('carries what the router inferred about the synthetic connection', () => {
      const log = parseSiftrLog(text);
      const first = log.records.filter((r) => r.foreignPort === 80);
      expect(first).to.have.length(12);
      expect(first.map((r) => r.direction).join('')).to.equal('oioooioioiio');
      // SYN_SENT, ESTABLISHED x7, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT x2 (FreeBSD t_state numbers).
      expect(first.map((r) => r.connState)).to.deep.equal([2, 4, 4, 4, 4, 4, 4, 4, 6, 9, 10, 10]);
      expect(first.map((r) => r.sentInflightBytes)).to.deep.equal([1, 0, 0, 1000, 2000, 1000, 1000, 0, 1, 0, 0, 0]);
      expect(first[5]).to.include({ srtt: 40125, sndWnd: 65536, rcvWnd: 64256, sndScale: 9, rcvScale: 7 });
      expect(first[5]).to.include({ maxSegSize: 1400, sackEnabled: 1, tFlags2: 32, flowtype: 191 });
      expect(first[0]).to.include({ timeSecs: 1700000000, timeUsecs: 0, localAddress: '2001:db8:1::10', localPort: 40000 });
      expect(new Set(first.map((r) => r.flowid)).size).to.equal(1);
      for (const r of log.records) {
        expect(r).to.include({ sndSsthresh: 0, sndCwnd: 0, rto: 0, sndBufHiwater: 0, sndBufCc: 0 });
        expect(r).to.include({ rcvBufHiwater: 0, rcvBufCc: 0, tSegqlen: 0 });
      }
      const f = log.footer;
      expect(f).to.not.equal(null);
      expect(f?.numInboundTcpPkts).to.equal(7n);
      expect(f?.numOutboundTcpPkts).to.equal(10n);
      expect(f?.totalTcpPkts).to.equal(17n);
      expect(f?.numOutboundSkippedPktsInpcb).to.equal(1n);
      expect(f?.numInboundSkippedPktsTcpcb).to.equal(1n);
      expect(f?.totalSkippedTcpPkts).to.equal(2n);
      expect(f?.flowList).to.deep.equal([
        { localAddress: '2001:db8:1::10', localPort: 40000, foreignAddress: '2001:db8:2::20', foreignPort: 80 },
        { localAddress: '2001:db8:1::11', localPort: 40001, foreignAddress: '2001:db8:2::20', foreignPort: 443 },
      ]);
    });
  });
});
