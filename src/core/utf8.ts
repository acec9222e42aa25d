// Request bodies must be valid UTF-8. Decoding leniently would turn each bad byte into U+FFFD,
// so two different byte strings would become the same text (and, in a lead key, the same lead).
import { AppError } from './errors.js';

// ignoreBOM keeps a byte-order mark in the text; the JSON parsers skip exactly one.
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new AppError('INVALID_JSON', 'Request body is not valid UTF-8');
  }
}
