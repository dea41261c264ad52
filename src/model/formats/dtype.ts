/** 16-bit float conversions for checkpoint IO (F16 = IEEE half, BF16 = upper half of a float32). */
import { roundBf16, roundFp16 } from '../../tensor/ref.js';

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function f32ToF16(x: number): number {
  const r = roundFp16(x);
  if (Number.isNaN(r)) return 0x7e00;
  const sign = r < 0 || Object.is(r, -0) ? 0x8000 : 0;
  const a = Math.abs(r);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -14) return sign | Math.round(a * 2 ** 24);
  const e = Math.floor(Math.log2(a));
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

/** decodes little-endian F32/F16/BF16 bytes into a Float32Array */
export function decodeFloats(bytes: Uint8Array, dtype: 'F32' | 'F16' | 'BF16', n: number): Float32Array {
  const out = new Float32Array(n);
  if (dtype === 'F32') new Uint8Array(out.buffer).set(bytes.subarray(0, 4 * n));
  else if (dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = ((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16) >>> 0;
  } else {
    const table = f16Table();
    for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  }
  return out;
}

let table16: Float32Array | null = null;
function f16Table(): Float32Array {
  if (!table16) {
    table16 = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table16[h] = f16ToF32(h);
  }
  return table16;
}

/** encodes a Float32Array as little-endian F32/F16/BF16 bytes (16-bit types rounded to nearest even) */
export function encodeFloats(x: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  const out = new Uint8Array(2 * x.length);
  const dv = new DataView(out.buffer);
  if (dtype === 'BF16') {
    const tmp = new Float32Array(1), u = new Uint32Array(tmp.buffer);
    for (let i = 0; i < x.length; i++) {
      tmp[0] = Number.isNaN(x[i]!) ? NaN : roundBf16(x[i]!);
      dv.setUint16(2 * i, u[0]! >>> 16, true);
    }
  } else for (let i = 0; i < x.length; i++) dv.setUint16(2 * i, f32ToF16(x[i]!), true);
  return out;
}
