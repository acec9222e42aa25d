// Calls to the service. The session cookie goes along by itself (same origin, HttpOnly: this
// code never sees it); every request carries X-Requested-With, without which the service does
// not accept the cookie for anything that changes data. Errors arrive as ApiError with the
// service's code and message, which the pages show as they are.

const CONSOLE_HEADER = { 'X-Requested-With': 'dealer-gateway-console' };

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** The route itself is missing on this server (an older version): not the same as "no such record". */
  get routeMissing() {
    return this.status === 405 || (this.status === 404 && this.code === 'NOT_FOUND' && /^No route for /.test(this.message));
  }
}

let onSignedOut = () => {};

/** Called with the error when a request is refused for want of a session (401). */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/**
 * `text`: the answer is a document (an ADF preview's XML), answered as the text it is; an error
 * still arrives as an ApiError read from the service's JSON.
 */
export async function request(method, path, body, { signal, quiet401 = false, text: asText = false } = {}) {
  const headers = { ...CONSOLE_HEADER, Accept: asText ? 'application/xml, text/plain;q=0.9, application/json;q=0.8' : 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK_ERROR', 'The service cannot be reached. Is it running?');
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = data?.error;
    const err = new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? `${res.status} ${res.statusText}`);
    if (res.status === 401 && !quiet401) onSignedOut(err);
    throw err;
  }
  return asText ? text : data;
}

/** The admin API (/admin/v1…). */
export const admin = {
  get: (path, options) => request('GET', `/admin/v1${path}`, undefined, options),
  /** A GET whose answer is a document, not JSON (the ADF preview): its text. */
  text: (path, options) => request('GET', `/admin/v1${path}`, undefined, { ...options, text: true }),
  post: (path, body, options) => request('POST', `/admin/v1${path}`, body ?? {}, options),
  put: (path, body, options) => request('PUT', `/admin/v1${path}`, body, options),
  patch: (path, body, options) => request('PATCH', `/admin/v1${path}`, body, options),
  delete: (path, options) => request('DELETE', `/admin/v1${path}`, undefined, options),
};

/** A query string of the non-empty entries of `params` (with the leading ?), or ''. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export const segment = (value) => encodeURIComponent(value);
