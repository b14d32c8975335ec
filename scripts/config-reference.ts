// Rewrite the field tables of docs/configuration.md from the config schema
// (lib/config/reference.ts): npx ts-node scripts/config-reference.ts
import * as fs from 'fs';
import * as path from 'path';

import { updateReference } from '../lib/config/reference';

const file = path.join(__dirname, '..', 'docs', 'configuration.md');
fs.writeFileSync(file, updateReference(fs.readFileSync(file, 'utf8')));
console.log(`${file}: field tables regenerated`);
