/**
 * The size of a value as JSON: the UTF-8 byte length of `JSON.stringify(value)`, computed without
 * building that string and given up as soon as it passes `limit`.
 *
 * Why not `JSON.stringify(value).length`: the value comes from the app's own body parser, whose
 * limit may be megabytes (`express.json({ limit: '10mb' })`); serializing it whole on every relay
 * request would cost the app that much per request before the relay could say no. Walking it with
 * an early stop costs at most about `limit` bytes of work, whatever the parser let through. The
 * walk is iterative, so a deeply nested value cannot overflow the stack, and a cyclic one (no JSON
 * parser makes one) ends up over the limit instead of looping. Exact for anything a JSON parser
 * produces; a `toJSON` that returns `undefined` inside an object is still counted as a member.
 */
export function jsonByteLength(value: unknown, limit: number): number {
  // One frame per open array or object, members visited one at a time, so the work done is
  // bounded by the limit even for an array of a million members.
  const frames: Frame[] = [];
  let size = visit(value, '', frames);
  while (frames.length > 0 && size <= limit) {
    const frame = frames[frames.length - 1] as Frame;
    if (frame.index >= frame.length) {
      frames.pop();
      continue;
    }
    const key =
      frame.keys === undefined ? String(frame.index) : (frame.keys[frame.index] as string);
    frame.index++;
    const member: unknown = (frame.container as Record<string, unknown>)[key];
    if (frame.isArray) {
      // A comma between members; holes and unserializable members become `null`.
      if (frame.index > 1) size += 1;
      size += serializable(member) ? visit(member, key, frames) : 4;
    } else if (serializable(member)) {
      // The quoted key, a colon, and a comma after the first kept member.
      size += stringByteLength(key) + 1 + (frame.kept++ > 0 ? 1 : 0);
      size += visit(member, key, frames);
    }
  }
  return size;
}

interface Frame {
  container: object;
  isArray: boolean;
  /** An object's own keys; none for an array, whose keys are its indices. */
  keys: string[] | undefined;
  length: number;
  index: number;
  kept: number;
}

/** Bytes of a primitive, or of an array's or object's brackets after opening a frame for it. */
function visit(input: unknown, key: string, frames: Frame[]): number {
  let value = input;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      return stringByteLength(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4; // non-finite numbers → `null`
    case 'boolean':
      return value ? 4 : 5;
    case 'bigint':
      // JSON.stringify throws on a bigint; no JSON parser produces one. Count its digits.
      return String(value).length;
    case 'object': {
      if (value === null) return 4;
      const isArray = Array.isArray(value);
      const keys = isArray ? undefined : Object.keys(value);
      const length = keys === undefined ? (value as unknown[]).length : keys.length;
      frames.push({ container: value, isArray, keys, length, index: 0, kept: 0 });
      return 2;
    }
    default:
      // `undefined`, functions and symbols at the top level serialize to nothing.
      return 0;
  }
}

/** `JSON.stringify` leaves object members out (and writes `null` in arrays) for these. */
function serializable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7f]*$/;

/** UTF-8 bytes of a JSON string literal: quotes, escapes, and well-formed `\uXXXX` for lone surrogates. */
function stringByteLength(text: string): number {
  // Most strings (IDs, names, URLs) are ASCII with nothing to escape: one byte a character, and a
  // native regex scan is several times faster than the loop below.
  if (PLAIN_ASCII.test(text)) return text.length + 2;
  let size = 2;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c)
      size += 2; // \" \\
    else if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) {
      size += 2; // \b \t \n \f \r
    } else if (code < 0x20)
      size += 6; // \u00XX
    else if (code < 0x80) size += 1;
    else if (code < 0x800) size += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        size += 4; // a surrogate pair: one 4-byte code point
        i++;
      } else size += 6; // a lone high surrogate is written as \udXXX
    } else if (code >= 0xdc00 && code <= 0xdfff)
      size += 6; // a lone low surrogate
    else size += 3;
  }
  return size;
}
