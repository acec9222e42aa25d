// Where a DatabaseConfig points, without credentials: for the startup log line and the CLI's
// "database: …" line. PostgreSQL: host, port and database name only (never user or password).
import type { DatabaseConfig } from '../core/config.js';

export type DatabaseLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly host: string; readonly port: number; readonly name: string };

export function describeDatabase(config: DatabaseConfig): DatabaseLocation {
  if (config.dialect === 'sqlite') return { kind: 'sqlite', path: config.path };
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    return { kind: 'postgres', host: '?', port: 5432, name: '?' };
  }
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  const port = Number(url.port || url.searchParams.get('port') || 5432);
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default)';
  return { kind: 'postgres', host, port, name };
}

/** One line: `sqlite /path/to/file.db` or `postgres host:port/name`. */
export function formatDatabase(location: DatabaseLocation): string {
  return location.kind === 'sqlite' ? `sqlite ${location.path}` : `postgres ${location.host}:${location.port}/${location.name}`;
}
