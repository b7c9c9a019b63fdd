// Shared by the annotator and admin pages: calls to the UI's JSON API, status announcements, small DOM helpers.
// Text from the store or a model is only ever inserted with textContent.

let csrfToken = null;

/** Remembers the CSRF token of the signed-in session (sent with every state-changing request). */
export function setCsrf(token) {
  csrfToken = token;
}

/** An API failure: HTTP status, message and the field at fault. */
export class ApiError extends Error {
  constructor(status, message, field, retryAfter) {
    super(message);
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

/** Calls the API; resolves with the parsed JSON, rejects with ApiError (or TypeError on a network failure). */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.error ? data.error : `request failed (${response.status})`;
    throw new ApiError(response.status, message, data && data.field, Number(response.headers.get('Retry-After')) || 0);
  }
  return data;
}

/** Says something to screen-reader users and shows it in the status line. */
export function announce(message, kind = 'info') {
  const status = document.getElementById('status');
  status.textContent = '';
  status.dataset.kind = kind;
  // a fresh text node, so the same message twice is announced twice
  window.setTimeout(() => { status.textContent = message; }, 30);
}

/** Creates an element with text (never HTML) and optional attributes. */
export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  return node;
}

/** Shows exactly the given view among the ids. */
export function show(id, visible) {
  document.getElementById(id).hidden = !visible;
}

/** The start of today in the browser's time zone, as an ISO-8601 instant. */
export function startOfLocalDay() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

/** A number for people: fixed decimals, or a dash when missing. */
export function fmt(value, digits = 3) {
  return value === null || value === undefined || Number.isNaN(value) ? '–' : Number(value).toFixed(digits);
}

/** Wires a sign-in form: POST /api/session with the token; calls onSignedIn(session). */
export function wireSignIn(onSignedIn) {
  const form = document.getElementById('sign-in-form');
  const error = document.getElementById('sign-in-error');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = document.getElementById('token');
    error.textContent = '';
    try {
      const session = await api('POST', '/api/session', { token: input.value.trim() });
      input.value = '';
      onSignedIn(session);
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : 'The server cannot be reached; try again.';
      input.focus();
    }
  });
}

/** Wires the sign-out button. */
export function wireSignOut() {
  document.getElementById('sign-out').addEventListener('click', async () => {
    try {
      await api('DELETE', '/api/session');
    } finally {
      window.location.reload();
    }
  });
}
