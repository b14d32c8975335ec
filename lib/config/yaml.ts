/** YAML config files: reading and parsing them, and the file:line:col of a config path. */
import * as fs from 'fs';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { FastpathError } from '../errors';

/** Split 'ports[1].addresses[0]' into YAML path segments. */
function pathSegments(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** 'file:line:col' of the deepest YAML node on `path`, for error messages. */
export function yamlLocation(file: string, doc: Document, lines: LineCounter, path: string): string {
  const segments = pathSegments(path);
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      return `${file}:${pos.line}:${pos.col}`;
    }
  }
  return file;
}

/** Read and parse a YAML file; I/O and syntax errors name the file. */
export function readYaml(file: string): { doc: Document; lines: LineCounter; value: unknown } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new FastpathError('ENOENT', `${file}: config file not found`);
    throw new FastpathError('EINVAL', `${file}: cannot read config file (${e.message})`);
  }
  const lines = new LineCounter();
  // logLevel 'error': a collection used as a key becomes its text (then an
  // unknown field) without a process warning.
  const doc = parseDocument(text, { lineCounter: lines, logLevel: 'error' });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const at = e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file;
    // The message repeats the position and a source excerpt; keep only the reason.
    const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new FastpathError('EINVAL', `${at}: invalid YAML: ${reason}`);
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // An alias bomb ("Excessive alias count ...") is refused while converting, not while parsing.
    throw new FastpathError('EINVAL', `${file}: invalid YAML: ${(err as Error).message}`);
  }
  return { doc, lines, value };
}
