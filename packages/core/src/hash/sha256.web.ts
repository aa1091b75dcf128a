import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/** SHA-256 of a UTF-8 string as lowercase hex, in pure JS for edge, worker and browser runtimes. */
export const sha256Hex = (input: string): string => bytesToHex(sha256(utf8ToBytes(input)));
