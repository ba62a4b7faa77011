// Same-origin JSON calls to /dashboard/api/: the session cookie, the CSRF header, the error shape.

/** Where the API lives (the contract's fixed path; the app itself is built with base `/dashboard/`). */
export const API_BASE = '/dashboard/api/';

/** A failed call: the HTTP status (0 = no answer) and the server's `{ kind, message }`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds to wait, from `Retry-After` (429), else null. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

async function failure(res: Response): Promise<ApiError> {
  let code = '';
  let message = '';
  try {
    const body: unknown = await res.json();
    if (body && typeof body === 'object') {
      const b = body as { kind?: unknown; message?: unknown };
      if (typeof b.kind === 'string') code = b.kind;
      if (typeof b.message === 'string') message = b.message;
    }
  } catch {
    // Not JSON (a proxy's page, say): the status alone tells what happened.
  }
  return new ApiError(res.status, code, message, parseRetryAfter(res.headers.get('Retry-After')));
}

export type CallOptions = {
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Sent as `X-CSRF-Token` (every non-GET call but the login). */
  csrf?: string;
};

/** Calls `path` (relative to the API base); the parsed JSON answer, or null for 204. */
export async function call<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.csrf) headers['X-CSRF-Token'] = opts.csrf;
  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null as T;
  return (await res.json()) as T;
}
