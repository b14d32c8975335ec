// The counters table in docs/ is generated from the same X-macro list as the
// C enum and the JS names; this fails when someone adds a counter and does not
// regenerate it (node dist/lib/counters-doc.js > docs/counters.md).
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { renderCounterDoc } from '../../lib/counters-doc';
import { native } from '../../lib/native';

describe('docs/counters.md', () => {
  it('matches the counters compiled into the addon', () => {
    const file = path.resolve(__dirname, '..', '..', 'docs', 'counters.md');
    expect(fs.readFileSync(file, 'utf8')).to.equal(renderCounterDoc(native().counterNames()));
  });
});
