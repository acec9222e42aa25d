// Bounds concurrent expensive work (scrypt). Each check costs ~40 ms of CPU and 16 MiB; without a
// bound, a flood of unknown credentials queues unbounded work in front of real partners. Callers
// with a credential verified before never reach this (directory.ts caches verified credentials).
// Slots are shared fairly: one key (a client address) may hold at most `maxPerKey` of them, so a
// single flooding client is refused at once while everyone else still gets a place in the queue.
import { AppError } from '../core/errors.js';

export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly held = new Map<string, number>();

  constructor(
    private readonly maxActive: number,
    private readonly maxWaiting: number,
    private readonly maxPerKey = Number.POSITIVE_INFINITY,
  ) {}

  async run<T>(work: () => Promise<T>, key = ''): Promise<T> {
    const holding = this.held.get(key) ?? 0;
    if (holding >= this.maxPerKey || (this.active >= this.maxActive && this.waiting.length >= this.maxWaiting)) {
      throw new AppError('TOO_MANY_REQUESTS', 'Too many credential checks in progress; retry shortly', 1);
    }
    this.held.set(key, holding + 1);
    try {
      if (this.active >= this.maxActive) await new Promise<void>((resolve) => this.waiting.push(resolve));
      else this.active++;
      try {
        return await work();
      } finally {
        const next = this.waiting.shift();
        // Hand the slot straight to the next waiter, or free it.
        if (next) next();
        else this.active--;
      }
    } finally {
      const left = (this.held.get(key) ?? 1) - 1;
      if (left === 0) this.held.delete(key);
      else this.held.set(key, left);
    }
  }
}
