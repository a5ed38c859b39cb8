/**
 * Small DOM helpers for the dashboard page (browser code, bundled by esbuild into build/ui/app.js).
 * `fmt` is the one number format of the page; the browser tests import it to compare the DOM with the store.
 */

type Child = Node | string | number | null | undefined | false;

/** Creates an element; attributes starting with `on` are listeners, `dataset` entries go to data-*. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, unknown> = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value as EventListener);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
  return el;
}

/** How every number is shown: 6 significant digits, exponent outside [1e-3, 1e6), n/a for missing or NaN. */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3) return value.toExponential(4);
  return String(Number(value.toPrecision(6)));
}

/** A number cell: the formatted text, and the exact stored value in data-value (the tests read both). */
export function num(value: number | null | undefined, testid?: string): HTMLElement {
  return h('span', { class: 'num', 'data-value': value === null || value === undefined ? 'NaN' : String(value), ...(testid ? { 'data-testid': testid } : {}) }, fmt(value));
}

export function table(head: readonly string[], rows: readonly (readonly Child[])[], attrs: Record<string, unknown> = {}): HTMLTableElement {
  return h('table', attrs, h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))), h('tbody', {}, rows.map((row) => h('tr', {}, row.map((c) => h('td', {}, c))))));
}

/** A failed API request: the server's error code, message and hint (a ModelevoError on the server). */
export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly hint: string | undefined) {
    super(hint ? `${message} (${hint})` : message);
    this.name = 'ApiError';
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as T & { error?: { code: string; message: string; hint?: string } };
  if (!res.ok) throw new ApiError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `${url}: HTTP ${res.status}`, body.error?.hint);
  return body;
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status status-${status}`, 'data-testid': 'status' }, status);
}

/** A colour on a white → blue ramp for heat maps (t in [0, 1]). */
export function heat(t: number): string {
  const c = Math.max(0, Math.min(1, t));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * c);
  return `rgb(${mix(247, 8)}, ${mix(251, 81)}, ${mix(255, 156)})`;
}

/** A run's ref as a URL path (each segment encoded: folder names may hold spaces or `#`). */
export function refPath(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/');
}

/** A key for display: every filesystem path in it shortened to its last segment (the full key stays in title). */
export function shortKey(key: string): string {
  return key.replace(/(?:\/[^/,\]\s]+)+\/([^/,\]\s]+)/g, '$1');
}
