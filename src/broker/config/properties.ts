/**
 * A reader for Java `.properties` text, the format of Kafka's `server.properties`.
 *
 * Follows `java.util.Properties.load`: `#` and `!` start comment lines, the key ends at the first
 * unescaped `=`, `:` or whitespace, a line ending in an odd number of backslashes continues on the
 * next line (whose leading whitespace is dropped), and `\t \n \r \f \uXXXX` escapes are decoded.
 */

/** One `key=value` entry with the line it started on (for error messages). */
export interface PropertyEntry {
  key: string;
  value: string;
  line: number;
}

/** Raised for text that is not valid properties syntax (only a malformed `\u` escape is). */
export class PropertiesSyntaxError extends Error {
  override readonly name = 'PropertiesSyntaxError';
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\f';
}

/** Splits text into logical lines, joining continuations; returns each with its first line number. */
function logicalLines(text: string): { text: string; line: number }[] {
  const physical = text.split(/\r\n|\r|\n/);
  const out: { text: string; line: number }[] = [];
  let current: string | null = null;
  let startLine = 0;
  for (let i = 0; i < physical.length; i++) {
    let raw = physical[i];
    if (current !== null) {
      // A continuation line: its leading whitespace is not part of the value.
      let j = 0;
      while (j < raw.length && isBlank(raw[j])) j++;
      raw = raw.slice(j);
    } else {
      let j = 0;
      while (j < raw.length && isBlank(raw[j])) j++;
      const first = raw[j];
      if (j === raw.length || first === '#' || first === '!') continue;
      raw = raw.slice(j);
      startLine = i + 1;
    }
    let backslashes = 0;
    for (let k = raw.length - 1; k >= 0 && raw[k] === '\\'; k--) backslashes++;
    if (backslashes % 2 === 1) {
      current = (current ?? '') + raw.slice(0, -1);
      continue;
    }
    out.push({ text: (current ?? '') + raw, line: startLine });
    current = null;
  }
  if (current !== null) out.push({ text: current, line: startLine });
  return out;
}

function decodeEscapes(s: string, line: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i === s.length - 1) {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else if (n === 'f') out += '\f';
    else if (n === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex))
        throw new PropertiesSyntaxError('malformed \\uXXXX escape', line);
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else out += n;
  }
  return out;
}

/** Parses properties text into entries in file order (a repeated key appears twice; last wins). */
export function parseProperties(text: string): PropertyEntry[] {
  const entries: PropertyEntry[] = [];
  for (const { text: l, line } of logicalLines(text)) {
    let i = 0;
    let keyEnd = -1;
    while (i < l.length) {
      const c = l[i];
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '=' || c === ':' || isBlank(c)) {
        keyEnd = i;
        break;
      }
      i++;
    }
    if (keyEnd < 0) keyEnd = l.length;
    let v = keyEnd;
    while (v < l.length && isBlank(l[v])) v++;
    if (v < l.length && (l[v] === '=' || l[v] === ':')) v++;
    while (v < l.length && isBlank(l[v])) v++;
    entries.push({
      key: decodeEscapes(l.slice(0, keyEnd), line),
      value: decodeEscapes(l.slice(v), line),
      line,
    });
  }
  return entries;
}
