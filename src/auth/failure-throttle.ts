// Counts failed authentications per key (a username, a client address) in fixed windows. A key
// with `max` failures in its window is blocked for the rest of that window: further attempts are
// refused (429 + Retry-After) without spending a scrypt check. The policy is in docs/api.md.

interface Window {
  readonly start: number;
  count: number;
}

export class FailureThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    /** Keys remembered at most; the oldest are forgotten first, so a spray of keys cannot grow memory. */
    private readonly capacity = 100_000,
  ) {}

  /** Milliseconds until `key` may try again, or 0 when it is not blocked. */
  blockedFor(key: string, now: number): number {
    const window = this.windows.get(key);
    if (!window) return 0;
    const end = window.start + this.windowMs;
    if (end <= now) {
      this.windows.delete(key);
      return 0;
    }
    return window.count >= this.max ? end - now : 0;
  }

  fail(key: string, now: number): void {
    const window = this.windows.get(key);
    if (window && window.start + this.windowMs > now) {
      window.count++;
      return;
    }
    this.windows.delete(key);
    if (this.windows.size >= this.capacity) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(key, { start: now, count: 1 });
  }
}
