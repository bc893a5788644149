/**
 * MurmurHash3 x86_128 (Austin Appleby's public-domain algorithm), seed 0,
 * over the UTF-8 bytes of a string, returned as the 32 hex chars of its
 * 16-byte output (h1..h4, each little-endian), the byte order the reference
 * implementation and Python's `mmh3.hash_bytes` produce.
 */
const imul = Math.imul;
const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const utf8 = new TextEncoder();

/** Bytes of `s`: its char codes when ASCII (every alert id input is), else UTF-8. */
function bytesOf(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.encode(s);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function word(b: Uint8Array, i: number): number {
  return (b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24);
}

/** Little-endian word from the up-to-4 tail bytes in [start, end). */
function tailWord(b: Uint8Array, start: number, end: number): number {
  let k = 0;
  for (let i = Math.min(end, start + 4) - 1; i >= start; i--) k = (k << 8) | (b[i] as number);
  return k;
}

export function murmur3x86128Hex(s: string): string {
  const b = bytesOf(s);
  const len = b.length;
  const blocks = len - (len % 16);
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  for (let i = 0; i < blocks; i += 16) {
    h1 ^= imul(rotl(imul(word(b, i), C1), 15), C2);
    h1 = (imul((rotl(h1, 19) + h2) | 0, 5) + 0x561ccd1b) | 0;
    h2 ^= imul(rotl(imul(word(b, i + 4), C2), 16), C3);
    h2 = (imul((rotl(h2, 17) + h3) | 0, 5) + 0x0bcaa747) | 0;
    h3 ^= imul(rotl(imul(word(b, i + 8), C3), 17), C4);
    h3 = (imul((rotl(h3, 15) + h4) | 0, 5) + 0x96cd1c35) | 0;
    h4 ^= imul(rotl(imul(word(b, i + 12), C4), 18), C1);
    h4 = (imul((rotl(h4, 13) + h1) | 0, 5) + 0x32ac3b17) | 0;
  }
  const rest = len - blocks;
  if (rest > 12) h4 ^= imul(rotl(imul(tailWord(b, blocks + 12, len), C4), 18), C1);
  if (rest > 8) h3 ^= imul(rotl(imul(tailWord(b, blocks + 8, len), C3), 17), C4);
  if (rest > 4) h2 ^= imul(rotl(imul(tailWord(b, blocks + 4, len), C2), 16), C3);
  if (rest > 0) h1 ^= imul(rotl(imul(tailWord(b, blocks, len), C1), 15), C2);
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return leHex(h1) + leHex(h2) + leHex(h3) + leHex(h4);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function leHex(h: number): string {
  return (HEX[h & 0xff] as string) + (HEX[(h >>> 8) & 0xff] as string) + (HEX[(h >>> 16) & 0xff] as string) + (HEX[h >>> 24] as string);
}
