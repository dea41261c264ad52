/** Open-addressing counter keyed by 53-bit numbers: much faster than Map for per-document n-gram statistics. */
export class NumCounter {
  private keys: Float64Array;
  private counts: Int32Array;
  private mask: number;
  size = 0;
  constructor(capacityPow2 = 1024) {
    this.keys = new Float64Array(capacityPow2);
    this.counts = new Int32Array(capacityPow2);
    this.mask = capacityPow2 - 1;
  }
  reset(expected: number): void {
    let cap = 1024;
    while (cap < expected * 2) cap <<= 1;
    if (cap !== this.keys.length) {
      this.keys = new Float64Array(cap);
      this.counts = new Int32Array(cap);
      this.mask = cap - 1;
    } else this.counts.fill(0);
    this.size = 0;
  }
  /** Increments and returns the new count. */
  add(key: number): number {
    let i = (key ^ (key / 4294967296)) & this.mask;
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) {
        this.keys[i] = key;
        this.counts[i] = 1;
        this.size++;
        return 1;
      }
      if (this.keys[i] === key) return (this.counts[i] = c + 1);
      i = (i + 1) & this.mask;
    }
  }
  get(key: number): number {
    let i = (key ^ (key / 4294967296)) & this.mask;
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) return 0;
      if (this.keys[i] === key) return c;
      i = (i + 1) & this.mask;
    }
  }
  max(): number {
    let m = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > m) m = this.counts[i]!;
    return m;
  }
  /** Key with the highest count (first in table order on ties). */
  argmax(): number {
    let m = 0;
    let k = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > m) { m = this.counts[i]!; k = this.keys[i]!; }
    return k;
  }
}

/** Hash of ids[i..i+n) as a 53-bit number. */
export function ngramKey(ids: Int32Array, i: number, n: number): number {
  let a = 0x9e3779b1 | 0;
  let b = 0x85ebca6b | 0;
  for (let j = i; j < i + n; j++) {
    const x = ids[j]!;
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b + x, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 2097152 + ((b >>> 0) & 0x1fffff);
}
