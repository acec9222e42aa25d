// Which methods a path answers to, so a wrong method on a real path gets 405 with `Allow`
// instead of a 404 that suggests the path does not exist. Paths match as the router matches
// them: exactly, so `/leads/v2/dealer/d-1/` (a trailing slash, which no route has) is 404, not a
// 405 that allows the very method it refuses.

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class RouteTable {
  private readonly routes: { readonly pattern: RegExp; readonly method: string }[] = [];

  /** `url` as registered with Fastify: `/leads/v2/dealer/:dealerUuid`. */
  add(method: string, url: string): void {
    // Each `:param` matches one non-empty path segment, as in Fastify's router.
    const source = url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : escapeRegExp(part)))
      .join('/');
    this.routes.push({ pattern: new RegExp(`^${source}$`), method });
  }

  /** The methods with a route for this concrete path (no query string), sorted. */
  allowed(path: string): string[] {
    const methods = new Set(this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    return [...methods].sort();
  }
}
