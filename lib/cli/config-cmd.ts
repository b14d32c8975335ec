/**
 * `fastpath config validate [--portable] [--json] FILE...`: check router
 * configs without starting anything — the same validation `start` does
 * (lib/config.ts), errors with their field path and file:line:col.
 * --portable checks a config meant for another machine: CPU lists are
 * checked against 1024 CPUs instead of this process's allowed set.
 * `fastpath config schema`: the config's JSON Schema (draft-07), which
 * editors use through the YAML language server; the package ships it as
 * dpdk-config/fastpath.schema.json.
 */
import { configJsonSchema, loadConfig } from '../config';
import { FastpathError } from '../errors';

export const CONFIG_HELP = `usage:
  fastpath config validate [--portable] [--json] FILE...
      Check router configs as "fastpath start" would, without starting
      anything. Exit 0 when every file is valid, 1 otherwise; each error
      names the field and file:line:col. --portable: check CPU lists against
      1024 CPUs, not this machine's (a config for another box).
  fastpath config schema
      Print the config's JSON Schema (draft-07), for editors: put
      "# yaml-language-server: $schema=<path or URL of it>" on the first
      line of a config (the package has it as dpdk-config/fastpath.schema.json).`;

/** The JSON Schema as `config schema` prints it (and the shipped file holds it). */
export function configSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

interface Verdict {
  file: string;
  ok: boolean;
  error?: { code: string; message: string; path?: string };
}

export function validateConfigs(files: readonly string[], portable: boolean): Verdict[] {
  const opts = portable ? { allowedCpus: Array.from({ length: 1024 }, (_, i) => i) } : {};
  return files.map((file) => {
    try {
      loadConfig(file, opts);
      return { file, ok: true };
    } catch (e) {
      const err = e as FastpathError;
      return { file, ok: false, error: { code: err.code ?? 'EIO', message: err.message, ...(err.path !== undefined ? { path: err.path } : {}) } };
    }
  });
}

/** Resolves with the exit status. */
export function runConfigCommand(args: readonly string[]): number {
  const [sub, ...rest] = args;
  if (sub === 'schema' && rest.length === 0) {
    process.stdout.write(configSchemaText());
    return 0;
  }
  if (sub !== 'validate') {
    process.stderr.write(`${CONFIG_HELP}\n`);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const json = rest.includes('--json');
  const portable = rest.includes('--portable');
  const files = rest.filter((a) => a !== '--json' && a !== '--portable');
  const unknown = files.find((f) => f.startsWith('-'));
  if (unknown !== undefined || files.length === 0) {
    process.stderr.write(`fastpath config validate: ${unknown !== undefined ? `unknown option ${unknown}` : 'no FILE'}\n${CONFIG_HELP}\n`);
    return 2;
  }
  const verdicts = validateConfigs(files, portable);
  if (json) process.stdout.write(`${JSON.stringify(verdicts, null, 2)}\n`);
  else for (const v of verdicts) process.stdout.write(v.ok ? `${v.file}: ok\n` : `${v.error!.message}\n`);
  return verdicts.every((v) => v.ok) ? 0 : 1;
}
