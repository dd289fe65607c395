/**
 * Parsing the text of an experiment: JSON that may carry line and block comments, read by
 * jsonc-parser, the same parser the workbench's editor uses to place its markers. When
 * the text is broken, a small scanner walks it again to say where and what was expected
 * there in a plain sentence (jsonc-parser's error codes are terse and, after its error
 * recovery, sometimes point past the real mistake).
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

export interface JsonSyntaxError {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what editors show for non-astral text). */
  column: number;
  offset: number;
  /** What is wrong and what would be valid, e.g. "expected ',' or '}' after a property value". */
  message: string;
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: JsonSyntaxError };

export function parseJsonText(text: string): JsonParse {
  // A UTF-8 byte order mark is not JSON, but editors on some systems write one.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const shift = body === text ? 0 : 1;
  const errors: ParseError[] = [];
  const value: unknown = parse(body, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length === 0) return { ok: true, value };
  const first = errors[0]!;
  const found = locateSyntaxError(body) ?? { offset: first.offset, message: printParseErrorCode(first.error) };
  const { line, column } = lineColumn(body, found.offset);
  return { ok: false, error: { line, column, offset: found.offset + shift, message: found.message } };
}

/** "line 3, column 14: expected ..." */
export function describeJsonSyntaxError(e: JsonSyntaxError): string {
  return `line ${e.line}, column ${e.column}: invalid JSON: ${e.message}`;
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = '"\\/bfnrt';

/** The offset and a description of the first syntax error in `text`, or null if it is valid JSON. */
function locateSyntaxError(text: string): { offset: number; message: string } | null {
  const n = text.length;
  let i = 0;
  const show = (at: number): string => {
    if (at >= n) return 'the end of the text';
    const c = text[at];
    if (c === '\n' || c === '\r') return 'a line break';
    return c === "'" ? `"'"` : `'${c}'`;
  };
  const fail = (message: string, at = i): never => {
    throw new Stop(at, message);
  };
  const ws = (): void => {
    for (;;) {
      while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
      if (text.startsWith('//', i)) {
        while (i < n && text[i] !== '\n') i++;
        continue;
      }
      if (text.startsWith('/*', i)) {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) fail('a /* comment is not closed; end it with */');
        i = end + 2;
        continue;
      }
      return;
    }
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= n) fail('unterminated string: a closing double quote is missing');
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('\\u must be followed by 4 hex digits');
          i += 6;
        } else if (e !== undefined && ESCAPES.includes(e)) {
          i += 2;
        } else {
          fail(`invalid escape \\${e ?? ''}; use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX`);
        }
        continue;
      }
      if (c < 32) fail('a line break or control character inside a string; write it as an escape such as \\n');
      i++;
    }
  };
  const member = (): void => {
    ws();
    if (text[i] !== '"') {
      if (text[i] === "'") fail('property names use double quotes in JSON, not single quotes');
      fail(`expected a property name in double quotes, found ${show(i)}`);
    }
    string();
    ws();
    if (text[i] !== ':') fail(`expected ':' after the property name, found ${show(i)}`);
    i++;
    value();
  };
  /** An object or array from its opening bracket: elements separated by commas, no trailing comma. */
  const container = (close: string, element: () => void, what: string): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      element();
      ws();
      if (text[i] === ',') {
        const comma = i;
        i++;
        ws();
        if (text[i] === close) fail(`a comma before '${close}': JSON allows no trailing comma; remove it`, comma);
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      fail(`expected ',' or '${close}' after ${what}, found ${show(i)}`);
    }
  };
  const value = (): void => {
    ws();
    if (i >= n) fail('unexpected end of the text; expected a value');
    const c = text[i];
    if (c === '{') return container('}', member, 'a property value');
    if (c === '[') return container(']', value, 'an array element');
    if (c === '"') return string();
    if (c === "'") fail('strings use double quotes in JSON, not single quotes');
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0] !== '-') {
      i += m[0].length;
      return;
    }
    fail(`unexpected ${show(i)}; expected a value: an object, array, "string", number, true, false or null`);
  };
  try {
    value();
    ws();
    if (i < n) fail(`unexpected ${show(i)} after the end of the document; a JSON file holds one value`);
    return null;
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, message: e.message };
    // Nesting too deep for this recursive scanner: fall back to JSON.parse's own message.
    if (e instanceof RangeError) return null;
    throw e;
  }
}
