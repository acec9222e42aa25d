// Children of a labelled metric, made once per label value and reused. prom-client's `labels()`
// allocates a label object and a bound function on every call; on the request path a counter
// increment must cost a map lookup, not that. Label values come from bounded sets only
// (provisioned subscribers, error codes, route patterns, status codes): the maps stay small.
export class Children<K, C> {
  private readonly made = new Map<K, C>();

  constructor(private readonly make: (key: K) => C) {}

  get(key: K): C {
    let child = this.made.get(key);
    if (child === undefined) {
      child = this.make(key);
      this.made.set(key, child);
    }
    return child;
  }
}

/** The subscriber label of a request nobody authenticated (no username that failed ever becomes a label). */
export const ANONYMOUS = '-';
