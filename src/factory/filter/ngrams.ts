/**
 * Open-addressing counter keyed by 32-bit n-gram hashes: much faster than Map
 * for per-document statistics. Within one document a 32-bit collision is rare
 * enough (about n²/2³³) not to move any fraction a rule looks at.
 */
export class IntCounter {
  private keys: Int32Array;
  private counts: Int32Array;
  private mask: number;
  /** 32 - log2(capacity): the multiplicative hash keeps the top bits */
  private shift: number;
  constructor(capacityPow2 = 1024) {
    this.keys = new Int32Array(capacityPow2);
    this.counts = new Int32Array(capacityPow2);
    this.mask = capacityPow2 - 1;
    this.shift = 32 - Math.log2(capacityPow2);
  }
  reset(expected: number): void {
    let cap = 1024;
    while (cap < expected * 2) cap <<= 1;
    if (cap > this.keys.length) {
      this.keys = new Int32Array(cap);
      this.counts = new Int32Array(cap);
    } else this.counts.fill(0, 0, cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }
  /** Increments and returns the new count. */
  add(key: number): number {
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) {
        this.keys[i] = key;
        this.counts[i] = 1;
        return 1;
      }
      if (this.keys[i] === key) return (this.counts[i] = c + 1);
      i = (i + 1) & this.mask;
    }
  }
  get(key: number): number {
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) return 0;
      if (this.keys[i] === key) return c;
      i = (i + 1) & this.mask;
    }
  }
}
