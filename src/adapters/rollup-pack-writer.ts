/**
 * The byte writer of the pack codec (rollup-pack-codec.ts): varints, floats, length-prefixed
 * bytes and text, appended into a buffer that is either grown by doubling (one pack, owned) or
 * replaced by a fresh arena when full (many packs handed out as views of shared arenas).
 */

/** Bytes of output arena an encoder starts with; packs are small (median under 128 B). */
export const ARENA_BYTES = 64 * 1024;

/**
 * Appends packs one after another into a shared arena and hands out views of it: one allocation
 * per 64 KB instead of a scratch buffer and a copy per pack (a full pass encodes ~200k packs). A
 * full arena is left to the views already handed out and a new one is started.
 */
export class PackWriter {
  private buffer: Buffer;
  /** Where the pack being written starts. */
  private start = 0;
  length = 0;

  /** `arena`: a full buffer is replaced by one of ARENA_BYTES, else by one twice its size. */
  constructor(private readonly arena: boolean) {
    this.buffer = Buffer.allocUnsafe(arena ? ARENA_BYTES : 256);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const used = this.length - this.start;
    let size = this.arena ? ARENA_BYTES : this.buffer.length * 2;
    while (size < used + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, this.start, this.length);
    this.buffer = next;
    this.start = 0;
    this.length = used;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** Unsigned integer up to 2^53, seven bits a byte. */
  varint(value: number): void {
    this.reserve(8);
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.length++] = v;
  }

  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  float(value: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(value, this.length);
    this.length += 8;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.byteLength);
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
  }

  text(value: string): void {
    const n = value.length;
    if (n < 0x80) {
      // Short ASCII (nearly every project, tag and dimension value): one byte a character, the
      // same bytes as UTF-8, without a native call to measure and one to write.
      this.reserve(n + 1);
      const at = this.length + 1;
      let i = 0;
      while (i < n) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        this.buffer[at + i] = c;
        i++;
      }
      if (i === n) {
        this.buffer[this.length] = n;
        this.length = at + n;
        return;
      }
    }
    const max = Buffer.byteLength(value, 'utf8');
    this.varint(max);
    this.reserve(max);
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  /** The pack written since the last call, as a view of the arena; the next pack starts after it. */
  take(): Buffer {
    const view = this.buffer.subarray(this.start, this.length);
    this.start = this.length;
    return view;
  }
}
