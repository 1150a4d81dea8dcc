import type { Random } from '../../kernel';

/**
 * Uniform integers and booleans drawn from an injected Random (SeededRandom in tests and
 * simulations, the OS CSPRNG in production), buffered because the knapsack solver draws many
 * booleans. The randomness in coin selection is not security-relevant (Bitcoin Core uses its
 * fast insecure RNG for it); it only avoids degenerate, fingerprintable choices.
 */
export class RandomDraws {
  readonly #random: Random;
  #buffer = new Uint8Array(0);
  #offset = 0;
  #bits = 0;
  #bitsLeft = 0;

  constructor(random: Random) {
    this.#random = random;
  }

  #byte(): number {
    if (this.#offset >= this.#buffer.length) {
      this.#buffer = Uint8Array.from(this.#random.bytes(256));
      this.#offset = 0;
    }
    return this.#buffer[this.#offset++] ?? 0;
  }

  uint32(): number {
    return ((this.#byte() << 24) | (this.#byte() << 16) | (this.#byte() << 8) | this.#byte()) >>> 0;
  }

  bool(): boolean {
    if (this.#bitsLeft === 0) {
      this.#bits = this.#byte();
      this.#bitsLeft = 8;
    }
    const bit = this.#bits & 1;
    this.#bits >>>= 1;
    this.#bitsLeft--;
    return bit === 1;
  }

  /** An integer in [0, bound), without modulo bias (rejection sampling). */
  below(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > 0x1_0000_0000) {
      throw new RangeError(`bound must be an integer in [1, 2^32], got ${bound}`);
    }
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
    for (;;) {
      const value = this.uint32();
      if (value < limit) return value % bound;
    }
  }

  /** Fisher–Yates shuffle, in place. */
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const item = items[i] as T;
      items[i] = items[j] as T;
      items[j] = item;
    }
  }
}
