/** A group name or gid → gid, from the group database (getent: /etc/group, LDAP, …). */
import { execFileSync } from 'child_process';

import { FastpathError } from '../errors';

export function resolveGroup(group: string | number): number {
  if (typeof group === 'number') return group;
  let line = '';
  try {
    line = execFileSync('getent', ['group', group], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // getent exits 2 for an unknown group: reported below.
  }
  const gid = Number(line.split(':')[2]);
  if (line === '' || !Number.isInteger(gid)) throw new FastpathError('ENOENT', `control.socketGroup: no group named ${JSON.stringify(group)}`);
  return gid;
}
