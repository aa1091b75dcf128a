import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

// Pure JS so both stay synchronous on every runtime: Web Crypto's `subtle` is async only.

/** SHA-256 of a UTF-8 string as lowercase hex, in pure JS for edge, worker and browser runtimes. */
export const sha256Hex = (input: string): string => bytesToHex(sha256(utf8ToBytes(input)));

/** HMAC-SHA256 of a UTF-8 message under a UTF-8 key as lowercase hex, in pure JS. */
export const hmacSha256Hex = (key: string, message: string): string =>
  bytesToHex(hmac(sha256, utf8ToBytes(key), utf8ToBytes(message)));
