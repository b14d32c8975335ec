/**
 * sd_notify(3) for Type=notify units: tell systemd the router is ready.
 *
 * The protocol is one datagram on the unix socket named by $NOTIFY_SOCKET,
 * and Node has no unix datagram sockets; so `systemd-notify --ready` sends it
 * for us. Its datagram comes from a child process, which is why the unit
 * says NotifyAccess=all; systemd-notify (without --no-block) waits until the
 * manager has read the message, so the child exiting first is no race.
 */
import { spawnSync } from 'child_process';

export interface NotifyResult {
  /** false: NOTIFY_SOCKET unset (not started by systemd as Type=notify). */
  attempted: boolean;
  ok: boolean;
  detail?: string;
}

export function notifySystemd(state: 'READY=1' | 'STOPPING=1', env: NodeJS.ProcessEnv = process.env): NotifyResult {
  if (!env.NOTIFY_SOCKET) return { attempted: false, ok: false };
  const args = state === 'READY=1' ? ['--ready', `--pid=${process.pid}`] : [state];
  const r = spawnSync('systemd-notify', args, { env, encoding: 'utf8', timeout: 5000 });
  if (r.error) return { attempted: true, ok: false, detail: `systemd-notify: ${r.error.message}` };
  if (r.status !== 0) return { attempted: true, ok: false, detail: `systemd-notify exited ${r.status}: ${r.stderr.trim()}` };
  return { attempted: true, ok: true };
}
