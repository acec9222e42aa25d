// Bounds concurrent expensive work (scrypt). Each check costs ~40 ms of CPU and 16 MiB; without a
// bound, a flood of unknown credentials queues unbounded work in front of real partners. Callers
// with a credential verified before never reach this (directory.ts caches verified credentials).
import { AppError } from '../errors.js';

export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxActive: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxActive) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new AppError('TOO_MANY_REQUESTS', 'Too many credential checks in progress; retry shortly');
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter, or free it.
      if (next) next();
      else this.active--;
    }
  }
}
