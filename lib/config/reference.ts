/**
 * The field tables of docs/configuration.md, generated from the config's
 * JSON Schema (schema.ts): name, type with its bounds, default and
 * description come from the one schema, so the reference cannot drift from
 * what the router accepts. Each table sits between
 * `<!-- fields: SECTION -->` and `<!-- end fields -->`;
 * `npx ts-node scripts/config-reference.ts` rewrites them, and
 * test/unit/config-schema.test.ts fails when they are stale.
 */
import { configJsonSchema } from './schema';

type JsonSchema = {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
};

const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

/** 'integer 1280..9600', 'string matching …', '`auto` \| boolean', 'object[] (2..16)'. */
function typeText(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeText).join(' \\| ');
  if (s.const !== undefined) return code(s.const);
  if (s.enum) {
    const values = s.enum as unknown[];
    // Powers of two: the range says it better than the list.
    if (values.length > 4 && values.every((v) => typeof v === 'number')) return `integer, a power of two ${values[0]}..${values[values.length - 1]}`;
    return values.map(code).join(' \\| ');
  }
  if (s.type === 'array') {
    const count = s.minItems !== undefined || s.maxItems !== undefined ? ` (${s.minItems ?? 0}..${s.maxItems ?? '∞'} entries)` : '';
    const item = s.items?.type === 'object' ? 'object' : typeText(s.items ?? {});
    return `${/\s/.test(item) ? `array of (${item})` : `${item}[]`}${count}`;
  }
  if (s.type === 'integer' || s.type === 'number') {
    const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
    if (s.minimum !== undefined && max !== undefined) return `${s.type} ${s.minimum}..${max}`;
    return s.minimum !== undefined ? `${s.type} ≥ ${s.minimum}` : s.type;
  }
  // Name-like patterns say the rule best; the others (paths, host:port) are said in the description.
  if (s.type === 'string' && s.pattern && !/\\0|\(\?:/.test(s.pattern)) return `string matching \`${s.pattern.replace(/\|/g, '\\|')}\``;
  return s.type ?? 'any';
}

/** The description without its 'Default: …' sentence, and that sentence's text. */
function splitDefault(description: string): { meaning: string; stated?: string } {
  const m = /\s*Default: (.*?)\.?$/.exec(description);
  return m ? { meaning: description.slice(0, m.index), stated: m[1] } : { meaning: description };
}

function defaultText(s: JsonSchema, required: boolean, stated: string | undefined): string {
  if (stated !== undefined) return stated;
  if (required) return 'required';
  if (s.default === undefined) return 'absent';
  if (typeof s.default === 'object' && s.default !== null && !Array.isArray(s.default) && Object.keys(s.default).length === 0) {
    return 'each field\'s default';
  }
  return code(s.default);
}

/** Rows for an object's fields; an object or array of objects is followed by its own fields' rows. */
function rows(s: JsonSchema, prefix: string): string[] {
  const out: string[] = [];
  for (const [key, field] of Object.entries(s.properties ?? {})) {
    const name = `${prefix}${key}`;
    const { meaning, stated } = splitDefault(field.description ?? '');
    // Plain text in a table cell: '|' would end the cell, '<pid>' would read as an HTML tag.
    const plain = (t: string): string => t.replace(/\|/g, '\\|').replace(/</g, '&lt;');
    const cells = [code(name), typeText(field), plain(defaultText(field, s.required?.includes(key) ?? false, stated)), plain(meaning)];
    out.push(`| ${cells.join(' | ')} |`);
    if (field.type === 'object' && field.properties) out.push(...rows(field, `${name}.`));
    if (field.type === 'array' && field.items?.type === 'object') out.push(...rows(field.items, `${name}[].`));
  }
  return out;
}

/** The markdown table of one section ('eal', 'ports', 'topology'...). */
export function sectionTable(section: string): string {
  const root = configJsonSchema() as JsonSchema;
  const s = root.properties?.[section];
  if (s === undefined) throw new Error(`no config section ${section}`);
  const object = s.type === 'array' ? s.items! : s;
  return ['| field | type | default | meaning |', '|---|---|---|---|', ...rows(object, '')].join('\n');
}

const BLOCK = /(<!-- fields: (\w+) -->\n)[\s\S]*?(<!-- end fields -->)/g;

/** `markdown` with every marked table regenerated. */
export function updateReference(markdown: string): string {
  return markdown.replace(BLOCK, (_all, open: string, section: string, close: string) => `${open}${sectionTable(section)}\n${close}`);
}
