// The HTTP API client: the token, JSON calls, the event stream.

const tokenKey = 'gobit-token';
let onUnauthorized = () => {};

/** setUnauthorizedHandler sets what runs when the API answers 401. */
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

/** token returns the API token kept for this tab, or ''. */
export function token() { return sessionStorage.getItem(tokenKey) || ''; }

/** setToken keeps t for this tab. */
export function setToken(t) {
  if (t) sessionStorage.setItem(tokenKey, t); else sessionStorage.removeItem(tokenKey);
}

/** ApiError is an error answer of the API. */
export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/** call sends a request and returns the parsed JSON answer (null for 204). */
export async function call(method, path, body, opts = {}) {
  const headers = {};
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(path, { method, headers, body: payload, signal: opts.signal, cache: 'no-store' });
  if (res.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'the daemon needs an API token');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
    throw new ApiError(res.status, msg);
  }
  return data;
}

/**
 * events opens GET /api/v1/events and calls onEvent(name, data) for each
 * server-sent event. It is read with fetch, not EventSource, so that it can
 * carry the Authorization header. It resolves false at once when the daemon
 * has no event stream (404, or an answer that is not text/event-stream), and
 * true when a stream that was open ends.
 */
export async function events(onEvent, signal) {
  const headers = { Accept: 'text/event-stream' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  let res;
  try {
    res = await fetch('/api/v1/events', { headers, signal, cache: 'no-store' });
  } catch {
    return false;
  }
  if (res.status === 401) onUnauthorized();
  const ct = res.headers.get('Content-Type') || '';
  if (!res.ok || !ct.startsWith('text/event-stream') || !res.body) {
    try { await res.body?.cancel(); } catch { /* ignore */ }
    return false;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '', name = '', data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      if (buf.length > (8 << 20)) throw new Error('event too large');
      let i;
      while ((i = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(buf[i] === '\r' && buf[i + 1] === '\n' ? i + 2 : i + 1);
        if (line === '') {
          if (data.length) {
            let parsed = null;
            try { parsed = JSON.parse(data.join('\n')); } catch { /* skip */ }
            if (parsed !== null) onEvent(name || 'message', parsed);
          }
          name = ''; data = [];
        } else if (line.startsWith(':')) {
          // comment (keep-alive)
        } else {
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? '' : line.slice(c + 1);
          if (v.startsWith(' ')) v = v.slice(1);
          if (field === 'event') name = v;
          else if (field === 'data') data.push(v);
        }
      }
    }
  } catch {
    // the stream broke; the caller reconnects
  }
  return true;
}
