/**
 * Tensors and the autograd tape. A Tensor is a Float32Array with a shape; an op that has an
 * input needing a gradient records its output on the tape with a closure that pushes the
 * output's gradient into its inputs' gradients. backward() replays the tape in reverse.
 * With checkFinite on (the default), every op's output and every gradient it produces is
 * checked for NaN and Inf, and the error names the op.
 */
export class NonFiniteError extends Error {
  constructor(
    readonly op: string,
    readonly phase: 'forward' | 'backward',
    readonly index: number,
    readonly value: number,
  ) {
    super(`${phase} pass: op "${op}" produced ${Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'} (element ${index})`);
    this.name = 'NonFiniteError';
  }
}

export class Tensor {
  grad: Float32Array | null = null;
  /** set by the op that made this tensor when it is on the tape */
  backwardFn: (() => void) | null = null;
  inputs: Tensor[] = [];
  constructor(
    public data: Float32Array,
    readonly shape: number[],
    public requiresGrad = false,
    public op = 'leaf',
  ) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new RangeError(`tensor "${op}": shape [${shape.join(', ')}] needs ${n} values, data has ${data.length}`);
  }
  get size(): number {
    return this.data.length;
  }
  /** the gradient buffer, allocated (zero) on first use */
  g(): Float32Array {
    if (!this.grad) this.grad = new Float32Array(this.data.length);
    return this.grad;
  }
  zeroGrad(): void {
    this.grad?.fill(0);
  }
  item(): number {
    return this.data[0]!;
  }
}

export const engine = {
  /** check each op's output and gradients for NaN/Inf */
  checkFinite: true,
  /** no tape is recorded while false (inference) */
  gradEnabled: true,
  tape: [] as Tensor[],
};

export function noGrad<T>(fn: () => T): T {
  const prev = engine.gradEnabled;
  engine.gradEnabled = false;
  try {
    return fn();
  } finally {
    engine.gradEnabled = prev;
  }
}

/** Runs the tape backward from a scalar loss (gradient 1, or `seed`), then clears it. */
export function backward(loss: Tensor, seed?: Float32Array, firstNonFinite?: (x: Float32Array) => number): void {
  if (!loss.requiresGrad) throw new Error('backward: the loss does not depend on any tensor that requires a gradient');
  const g = loss.g();
  if (seed) g.set(seed);
  else g.fill(1);
  const tape = engine.tape;
  engine.tape = [];
  for (let i = tape.length - 1; i >= 0; i--) {
    const t = tape[i]!;
    if (!t.grad || !t.backwardFn) continue;
    t.backwardFn();
    if (engine.checkFinite && firstNonFinite)
      for (const inp of t.inputs) {
        if (!inp.grad) continue;
        const at = firstNonFinite(inp.grad);
        if (at >= 0) throw new NonFiniteError(t.op, 'backward', at, inp.grad[at]!);
      }
    // intermediate gradients are not needed once pushed to the inputs
    if (t.inputs.length) t.grad = null;
  }
}

/** clears a tape left by a forward pass that will not be followed by backward() */
export function discardTape(): void {
  engine.tape = [];
}
