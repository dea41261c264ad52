/** Minimal protobuf wire-format reader and writer (proto2 fields as SentencePiece uses them). */

export class ProtoError extends Error {}

export interface Field {
  no: number;
  wire: number;
  /** varint value (wire 0) */
  varint?: bigint;
  /** raw bytes (wire 2), or the 4 / 8 little-endian bytes of fixed32 / fixed64 */
  bytes?: Uint8Array;
}

export function readFields(buf: Uint8Array, where = 'message'): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= buf.length) throw new ProtoError(`${where}: truncated varint at byte ${p}`);
      const b = buf[p++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 70n) throw new ProtoError(`${where}: varint too long at byte ${p}`);
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (no === 0) throw new ProtoError(`${where}: field number 0 at byte ${p}`);
    switch (wire) {
      case 0:
        out.push({ no, wire, varint: varint() });
        break;
      case 1:
        if (p + 8 > buf.length) throw new ProtoError(`${where}: truncated fixed64 field ${no}`);
        out.push({ no, wire, bytes: buf.subarray(p, p + 8) });
        p += 8;
        break;
      case 2: {
        const len = Number(varint());
        if (p + len > buf.length) throw new ProtoError(`${where}: field ${no} claims ${len} bytes, only ${buf.length - p} left (truncated file?)`);
        out.push({ no, wire, bytes: buf.subarray(p, p + len) });
        p += len;
        break;
      }
      case 5:
        if (p + 4 > buf.length) throw new ProtoError(`${where}: truncated fixed32 field ${no}`);
        out.push({ no, wire, bytes: buf.subarray(p, p + 4) });
        p += 4;
        break;
      default:
        throw new ProtoError(`${where}: unsupported wire type ${wire} (field ${no}) at byte ${p}: not a protobuf message`);
    }
  }
  return out;
}

export function fieldFloat(f: Field): number {
  return new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 4).getFloat32(0, true);
}

export function fieldString(f: Field): string {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(f.bytes!);
}

export function fieldInt(f: Field): number {
  let v = f.varint!;
  if (v >= 1n << 63n) v -= 1n << 64n; // int32/int64 negative values are 10-byte varints
  return Number(v);
}

export class ProtoWriter {
  private parts: Uint8Array[] = [];
  private cur: number[] = [];
  private flush(): void {
    if (this.cur.length) {
      this.parts.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
  }
  private varint(v: bigint): void {
    if (v < 0n) v += 1n << 64n;
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      this.cur.push(b);
    } while (v);
  }
  tag(no: number, wire: number): void {
    this.varint(BigInt((no << 3) | wire));
  }
  uint(no: number, v: number | bigint): void {
    this.tag(no, 0);
    this.varint(BigInt(v));
  }
  float(no: number, v: number): void {
    this.tag(no, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.cur.push(...b);
  }
  bytes(no: number, b: Uint8Array): void {
    this.tag(no, 2);
    this.varint(BigInt(b.length));
    this.flush();
    this.parts.push(b);
  }
  string(no: number, s: string): void {
    this.bytes(no, new TextEncoder().encode(s));
  }
  /** Re-emit a field read by readFields, unchanged. */
  raw(f: Field): void {
    this.tag(f.no, f.wire);
    if (f.wire === 0) this.varint(f.varint!);
    else if (f.wire === 2) {
      this.varint(BigInt(f.bytes!.length));
      this.flush();
      this.parts.push(f.bytes!);
    } else this.cur.push(...f.bytes!);
  }
  finish(): Uint8Array {
    this.flush();
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
