// hookline portal: one page for an operator (every application) and for their customers (one
// application, reached through an app-portal-access link).
//
// Vanilla ES2020, no build step, no external resource. It runs under a strict CSP with Trusted
// Types, so no HTML string is ever parsed: every node is made with createElement/createElementNS
// and every value the API returns (URLs, payloads, headers, response bodies) is set as text.
// The interface this file keeps (routes, DOM ids, token handling) is fixed by the portal contract
// (docs/portal.md for operators); the browser tests in tests/portal/ rely on it.
'use strict';

// ---------------------------------------------------------------------------------------------
// Constants

const TOKEN_KEY = 'hookline.portal.token';
const POLL_MS = 5000;
const PAGE = 250;
// The chart reads at most this many pages of attempts per window (the contract's bound).
const CHART_PAGES = 4;
// Lists (applications, endpoints) are read whole, up to this many pages.
const LIST_PAGES = 20;
// The API is served by the same origin, under the prefix the portal itself is served under.
const API_BASE = location.pathname.replace(/\/portal(\/.*)?$/, '') + '/api/v1';

// Svix's message statuses at an endpoint; 4 ("canceled") is what hookline calls skipped.
const STATUS = { 0: 'success', 1: 'pending', 2: 'fail', 3: 'sending', 4: 'skipped' };
// Worst first: the status a message shows when it has several endpoints.
const STATUS_RANK = [2, 1, 3, 4, 0];

// Chart windows: a fixed number of buckets each, so bars keep a readable width.
const WINDOWS = {
  '1h': { ms: 3600e3, buckets: 12, label: 'the last hour', tick: { hour: '2-digit', minute: '2-digit' } },
  '24h': { ms: 86400e3, buckets: 24, label: 'the last 24 hours', tick: { hour: '2-digit', minute: '2-digit' } },
  '7d': { ms: 7 * 86400e3, buckets: 28, label: 'the last 7 days', tick: { weekday: 'short', hour: '2-digit' } },
};

const state = {
  token: null,
  session: null,
  gen: 0, // bumped on every navigation: late answers for an older view are dropped
  view: null, // {refresh} of the view on screen
  poll: null,
  catalogue: null, // promise of the event-type catalogue, read once per session
  apps: new Map(),
};

// ---------------------------------------------------------------------------------------------
// DOM helpers

/** An HTML element; `attrs` keys starting with "on" become listeners, the rest attributes. */
function h(tag, attrs, ...kids) {
  return build(document.createElement(tag), attrs, kids);
}

/** An SVG element (the charts). */
function svg(tag, attrs, ...kids) {
  return build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, kids);
}

function build(el, attrs, kids) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    // Strings become text nodes: nothing here is ever parsed as markup.
    if (kid != null && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

const $ = (sel, root = document) => root.querySelector(sel);
const seg = encodeURIComponent;

function badge(status) {
  const label = STATUS[status] || 'not sent';
  return h('span', { class: `badge st-${status == null ? 'none' : status}`, 'data-status': status }, label);
}

/** A local date and time (the year only when not this one), the exact instant in its title. */
function timeEl(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const year = d.getFullYear() === new Date().getFullYear() ? undefined : 'numeric';
  return h('time', { datetime: iso, title: iso }, d.toLocaleString(undefined,
    { year, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }));
}

/**
 * A table (scrolling sideways on a narrow window rather than squeezing its columns) whose
 * fill(items) keeps the row of each item it shows already, by key: a live update adds and drops
 * rows without rebuilding the others, so keyboard focus and a test's reference to a row survive.
 */
function liveTable(id, heads, keyOf, makeRow) {
  const tbody = h('tbody');
  const el = h('div', { class: 'table-wrap' },
    h('table', { id }, h('thead', {}, h('tr', {}, heads.filter(Boolean).map((t) => h('th', { scope: 'col' }, t)))), tbody));
  const emptyRow = h('tr', { class: 'empty' }, h('td', { colspan: heads.filter(Boolean).length }));
  let shown = new Map();
  const fill = (items, emptyText) => {
    const next = new Map();
    const rows = items.map((it) => {
      const k = keyOf(it);
      const tr = shown.get(k) || makeRow(it);
      next.set(k, tr);
      return tr;
    });
    shown = next;
    if (!rows.length) {
      emptyRow.firstChild.textContent = emptyText;
      rows.push(emptyRow);
    }
    const keep = new Set(rows);
    for (const tr of [...tbody.children]) if (!keep.has(tr)) tr.remove();
    // Move only what is out of place: rows already in position are never detached.
    rows.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null); });
  };
  return { el, fill };
}

/** A static table of items. */
function table(id, heads, items, makeRow, empty) {
  const t = liveTable(id, heads, (it) => it, makeRow);
  t.fill(items, empty);
  return t.el;
}

function card(title, ...kids) {
  return h('section', { class: 'card' }, h('h3', {}, title), kids);
}

/** Replaces `holder`'s content (for parts without controls: live tables use liveTable). */
function swap(holder, ...kids) {
  holder.replaceChildren(...kids.flat().filter((k) => k != null && k !== false));
}

// ---------------------------------------------------------------------------------------------
// Page state: progress, errors, toasts

function setState(s) {
  document.body.dataset.state = s;
  $('#progress').hidden = s !== 'loading';
}

let toastTimer = null;
/** Tells the result of an action in #toast (a polite live region). */
function toast(text, isError) {
  const t = $('#toast');
  t.textContent = text;
  t.classList.toggle('toast-error', !!isError);
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), isError ? 10000 : 6000);
}

function render(node, title) {
  $('#main').replaceChildren(node);
  document.title = title ? `${title} · ${brand()}` : brand();
}

function errorView(err) {
  const what = {
    403: 'You do not have access to this.',
    404: 'This was not found.',
    0: 'The server could not be reached.',
  }[err.status] || 'Something went wrong.';
  return h('div', { id: 'error', class: 'notice notice-error', role: 'alert' },
    h('h2', { tabindex: -1 }, what),
    h('p', { class: 'detail' }, err.message),
    h('p', {}, h('a', { href: '#/' }, 'Back to the start')));
}

// ---------------------------------------------------------------------------------------------
// Token and API

let memToken = null; // when sessionStorage is unavailable (a frame whose storage is blocked)

function saveToken(t) {
  memToken = t;
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) { /* storage blocked: memToken holds it for this page's life */ }
}

function loadToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || memToken; } catch (_) { return memToken; }
}

/** Moves a `#token=` of a portal link into sessionStorage and out of the address bar and history. */
function takeFragmentToken() {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!m) return;
  let token = m[1];
  try { token = decodeURIComponent(token); } catch (_) { /* not %-encoded: use as given */ }
  if (token) saveToken(token);
  history.replaceState(null, '', location.pathname + location.search);
}

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

function query(q) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q || {})) if (v != null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The API's error detail as one line of text (a 422 lists every wrong field). */
function describe(data, res) {
  const d = data && data.detail;
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) {
    return d.map((e) => `${(e.loc || []).filter((x) => x !== 'body' && x !== 'query').join('.')}: ${e.msg}`).join('; ');
  }
  return `${res.status} ${res.statusText}`.trim();
}

/**
 * One API call. A 401 ends the session at once (expired or denied view) unless `keep401`; every
 * other failure is thrown as an ApiError for the caller to show.
 */
async function api(path, { method = 'GET', body, q, keep401 } = {}) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(API_BASE + path + query(q), {
      method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    throw new ApiError(0, 'network', 'The server could not be reached. Check the connection and try again.');
  }
  // 202 and 204 answers may have no body; an error body that is not JSON still has a status.
  const data = await res.json().catch(() => null);
  if (res.ok) return data;
  const err = new ApiError(res.status, data && data.code, describe(data, res));
  if (res.status === 401 && !keep401) endSession(err);
  throw err;
}

/** Reads a list page by page (lists run oldest first) up to `max` pages. */
async function pages(path, q, max = LIST_PAGES) {
  const items = [];
  let iterator = null;
  let done = false;
  for (let i = 0; i < max && !done; i++) {
    const r = await api(path, { q: { ...q, limit: PAGE, iterator } });
    items.push(...r.data);
    done = r.done;
    iterator = r.iterator || iterator;
  }
  return { items, done, iterator };
}

/** The event-type catalogue, read once per session. */
function catalogue() {
  if (!state.catalogue) {
    state.catalogue = pages('/event-type', {}, 4)
      .then((r) => r.items.filter((t) => !t.archived))
      // A token that may not read the catalogue still works; the form then offers no types.
      .catch((e) => { if (e.status === 403) return []; state.catalogue = null; throw e; });
  }
  return state.catalogue;
}

// ---------------------------------------------------------------------------------------------
// Session and capabilities

const isOperator = () => state.session && state.session.scope === 'all';
const brand = () => (isOperator() ? 'hookline' : 'Webhooks');

/**
 * Whether the session may do what `cap` allows, by the API's rule (Capabilities::allows):
 * ManageEndpoint allows everything, ManageEndpointSecret reading the secret too. A readOnly
 * session has ViewBase alone. The API refuses anything else anyway (403); this only hides it.
 */
function can(cap) {
  const caps = new Set((state.session && state.session.capabilities) || []);
  return caps.has(cap) || caps.has('ManageEndpoint') || (cap === 'ViewEndpointSecret' && caps.has('ManageEndpointSecret'));
}

async function appOf(id) {
  const s = state.session;
  if (s.scope === 'app' && s.app && (id === s.app.id || id === s.app.uid)) return s.app;
  if (!state.apps.has(id)) state.apps.set(id, await api(`/app/${seg(id)}`));
  return state.apps.get(id);
}

async function start() {
  takeFragmentToken();
  state.token = loadToken();
  if (!state.token) { showLogin(); return; }
  setState('loading');
  try {
    state.session = await api('/auth/session');
  } catch (e) {
    if (e.status !== 401) { render(errorView(e), 'Error'); setState('error'); }
    return;
  }
  $('#brand').textContent = brand();
  $('#whoami').textContent = isOperator() ? 'All applications' : (state.session.app && state.session.app.name) || '';
  $('#signout').hidden = false;
  route();
}

function resetSession() {
  stopPoll();
  state.gen++;
  saveToken(null);
  Object.assign(state, { token: null, session: null, view: null, catalogue: null, apps: new Map() });
  $('#whoami').textContent = '';
  $('#signout').hidden = true;
  document.querySelectorAll('dialog').forEach((d) => d.remove());
}

/** A 401: the token is over (expired view) or was never good (denied view). */
function endSession(err) {
  resetSession();
  if (err.code === 'token_expired') {
    render(h('section', { id: 'expired', class: 'notice', role: 'alert' },
      h('h1', { tabindex: -1 }, 'Link expired'),
      h('p', {}, 'This link has expired. Ask for a new one.')), 'Link expired');
  } else {
    render(h('section', { id: 'denied', class: 'notice', role: 'alert' },
      h('h1', { tabindex: -1 }, 'Access denied'),
      h('p', {}, 'This token is not valid: it may have been signed out or ended. Ask for a new link, or sign in with an API token.'),
      h('p', { class: 'detail' }, err.message),
      h('button', { type: 'button', class: 'btn', onclick: () => showLogin() }, 'Sign in with a token')), 'Access denied');
  }
  setState('error');
}

async function signOut() {
  try {
    await api('/auth/logout', { method: 'POST', body: {}, keep401: true });
  } catch (_) {
    // Signing out must always work here: the token is forgotten in this tab whatever the answer.
  }
  resetSession();
  history.replaceState(null, '', location.pathname + location.search);
  showLogin('You are signed out.');
}

function showLogin(message) {
  const input = h('input', { id: 'login-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const form = h('form', {
    id: 'login', class: 'card login',
    onsubmit: (e) => {
      e.preventDefault();
      if (!input.value.trim()) return;
      saveToken(input.value.trim());
      start();
    },
  },
  h('h1', {}, 'Sign in'),
  message && h('p', {}, message),
  h('p', { class: 'muted' }, 'Open the portal link you were given, or paste an API token.'),
  h('label', { for: 'login-token' }, 'API token'), input,
  h('div', { class: 'actions' }, h('button', { id: 'login-submit', type: 'submit', class: 'btn btn-primary' }, 'Sign in')));
  render(form, 'Sign in');
  setState('ready');
  input.focus();
}

// ---------------------------------------------------------------------------------------------
// Router

const ROUTES = [
  [['app', ':app', 'endpoints'], endpointsView],
  [['app', ':app', 'endpoint', ':ep'], endpointView],
  [['app', ':app', 'messages'], messagesView],
  [['app', ':app', 'msg', ':msg'], messageView],
];

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  if (!state.session) return;
  const [path, q] = location.hash.replace(/^#/, '').split('?');
  let parts;
  try { parts = path.split('/').filter(Boolean).map(decodeURIComponent); } catch (_) { parts = ['?']; }
  for (const [pattern, view] of ROUTES) {
    const params = {};
    if (pattern.length === parts.length && pattern.every((p, i) => (p[0] === ':' ? ((params[p.slice(1)] = parts[i]), true) : p === parts[i]))) {
      show(view, params, new URLSearchParams(q || ''));
      return;
    }
  }
  if (!isOperator()) {
    // A customer has one application: the start page is its endpoints.
    history.replaceState(null, '', `#/app/${seg(state.session.app.id)}/endpoints`);
    route();
  } else if (parts.length) {
    history.replaceState(null, '', '#/');
    route();
  } else show(appsView, {}, new URLSearchParams());
}

/** Shows a view: loading state, then the view (or an inline #error), then polling if it has any. */
async function show(view, params, q) {
  const gen = ++state.gen;
  stopPoll();
  state.view = null;
  setState('loading');
  try {
    const v = await view(params, q);
    if (gen !== state.gen) return;
    render(v.el, v.title);
    window.scrollTo(0, 0);
    state.view = v;
    setState('ready');
    const heading = $('#main h2[tabindex]');
    if (heading && gen > 1) heading.focus({ preventScroll: true }); // tell screen readers the page changed
    if (v.refresh) state.poll = setInterval(() => { if (document.visibilityState === 'visible') refresh(false); }, POLL_MS);
  } catch (e) {
    if (gen !== state.gen || e.status === 401) return; // 401: endSession has shown its view
    render(errorView(e), 'Error');
    setState('error');
  }
}

function stopPoll() {
  clearInterval(state.poll);
  state.poll = null;
}

/**
 * Reloads the open view's live parts. `loud` (the #refresh button) shows progress and errors; a
 * poll stays quiet, keeping the last good data on screen until the next poll succeeds.
 */
async function refresh(loud) {
  const v = state.view;
  if (!v || !v.refresh || v.busy) return;
  const gen = state.gen;
  v.busy = true;
  if (loud) setState('loading');
  try {
    await v.refresh();
  } catch (e) {
    if (loud && e.status !== 401 && gen === state.gen) toast(`Could not refresh: ${e.message}`, true);
  } finally {
    v.busy = false;
    if (loud && gen === state.gen) setState('ready');
  }
}

/**
 * Runs an action from a button, one at a time, then toasts its result; an error goes to
 * `onError` (by default a toast). Answers null when it failed.
 */
async function act(btn, fn, ok, onError = (e) => toast(e.message, true)) {
  // aria-disabled rather than disabled: a disabled button drops keyboard focus.
  if (btn.getAttribute('aria-disabled') === 'true') return null;
  btn.setAttribute('aria-disabled', 'true');
  try {
    const r = await fn();
    if (ok) toast(typeof ok === 'function' ? ok(r) : ok);
    return r ?? true; // a 202/204 without a body still succeeded
  } catch (e) {
    if (e.status !== 401) onError(e);
    return null;
  } finally {
    btn.removeAttribute('aria-disabled');
  }
}

function refreshButton() {
  return h('button', { id: 'refresh', type: 'button', class: 'btn', onclick: () => refresh(true) }, 'Refresh');
}

// ---------------------------------------------------------------------------------------------
// Dialogs (a native <dialog>: focus stays inside, Esc closes it, focus goes back on close)

function openDialog(id, content, first) {
  const dlg = h('dialog', { id, class: 'dialog', 'aria-labelledby': `${id}-title` }, content);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  if (first) first.focus();
  return dlg;
}

function confirmDialog(title, text, okLabel) {
  return new Promise((resolve) => {
    let yes = false;
    const cancel = h('button', { id: 'confirm-cancel', type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cancel');
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); yes = true; dlg.close(); } },
      h('h2', { id: 'confirm-title' }, title),
      h('p', {}, text),
      h('div', { class: 'actions' }, cancel, h('button', { id: 'confirm-ok', type: 'submit', class: 'btn btn-danger' }, okLabel)));
    const dlg = openDialog('confirm', form, cancel); // Cancel first: Enter alone never destroys
    dlg.addEventListener('close', () => resolve(yes));
  });
}

// ---------------------------------------------------------------------------------------------
// Time

const pad = (n) => String(n).padStart(2, '0');

/** A Date as a datetime-local value (local time, minutes). */
function toLocalInput(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value as RFC 3339 (UTC, whole seconds), or null when empty or invalid. */
function rfc3339(local) {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// Views: applications (operator)

async function appsView() {
  const { items } = await pages('/app', {});
  const filter = h('input', { id: 'apps-filter', type: 'search', placeholder: 'Filter by name or id', 'aria-label': 'Filter applications' });
  const list = h('ul', { id: 'apps', class: 'apps' }, items.map((a) => h('li', { 'data-name': `${a.name} ${a.uid || ''} ${a.id}`.toLowerCase() },
    h('a', { href: `#/app/${seg(a.id)}/endpoints`, 'data-app-id': a.id },
      h('span', { class: 'app-name' }, a.name), h('span', { class: 'muted mono' }, a.uid || a.id)))));
  filter.addEventListener('input', () => {
    const f = filter.value.trim().toLowerCase();
    for (const li of list.children) li.hidden = !!f && !li.dataset.name.includes(f);
  });
  return {
    title: 'Applications',
    el: h('section', { class: 'view' },
      h('div', { class: 'view-head' }, h('h2', { tabindex: -1 }, 'Applications'), filter),
      items.length ? list : h('p', { class: 'muted' }, 'No applications yet.')),
  };
}

function appHeader(app, active) {
  const base = `#/app/${seg(app.id)}`;
  const tab = (id, href, label, on) => h('a', { id, href, class: on ? 'tab active' : 'tab', 'aria-current': on ? 'page' : null }, label);
  return h('div', { class: 'app-head' },
    isOperator() && h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, 'All applications'), h('span', { 'aria-hidden': 'true' }, ' / '),
      h('span', { class: 'app-name' }, app.name)),
    h('nav', { class: 'tabs', 'aria-label': 'Sections' },
      tab('nav-endpoints', `${base}/endpoints`, 'Endpoints', active === 'endpoints'),
      tab('nav-messages', `${base}/messages`, 'Messages', active === 'messages')));
}

// ---------------------------------------------------------------------------------------------
// Views: endpoints

function typesText(ep) {
  const t = ep.filterTypes || ep.eventTypes;
  return t && t.length ? t.join(', ') : 'All event types';
}

/** The enabled/disabled badge; given `el`, updates it in place. */
function stateBadge(ep, el = h('span')) {
  el.className = `ep-state badge ${ep.disabled ? 'st-off' : 'st-on'}`;
  el.textContent = ep.disabled ? 'disabled' : 'enabled';
  return el;
}

async function endpointsView({ app: appId }) {
  const [app, { items }] = await Promise.all([appOf(appId), pages(`/app/${seg(appId)}/endpoint`, {})]);
  const row = (ep) => h('tr', { 'data-endpoint-id': ep.id },
    h('td', { class: 'ep-url' }, h('a', { href: `#/app/${seg(app.id)}/endpoint/${seg(ep.id)}`, class: 'mono' }, ep.url)),
    h('td', {}, ep.description || h('span', { class: 'muted' }, '—')),
    h('td', { class: 'types' }, typesText(ep)),
    h('td', {}, stateBadge(ep)));
  const add = can('ManageEndpoint') && h('button', {
    id: 'endpoint-new', type: 'button', class: 'btn btn-primary',
    onclick: () => endpointForm(app, null),
  }, 'Add endpoint');
  return {
    title: 'Endpoints',
    el: h('section', { class: 'view' }, appHeader(app, 'endpoints'),
      h('div', { class: 'view-head' }, h('h2', { tabindex: -1 }, 'Endpoints'), add),
      table('endpoints', ['URL', 'Description', 'Event types', 'State'], items, row, 'No endpoints yet.')),
  };
}

/** The create/edit form, in a dialog. `ep` null creates. */
async function endpointForm(app, ep, onSaved) {
  const types = await catalogue().catch((e) => { toast(e.message, true); return null; });
  // The catalogue may take a moment: a second click meanwhile must not open a second form.
  if (!types || $('#endpoint-dialog')) return;
  const chosen = new Set((ep && (ep.filterTypes || ep.eventTypes)) || []);
  // Types the endpoint has that the catalogue lacks stay listed (and checked) so a save keeps them.
  const names = [...types.map((t) => t.name), ...[...chosen].filter((n) => !types.some((t) => t.name === n))];
  const about = new Map(types.map((t) => [t.name, t.description]));
  const url = h('input', { id: 'ep-url', type: 'url', required: true, autocomplete: 'off', placeholder: 'https://example.com/webhooks', value: ep ? ep.url : null });
  const desc = h('input', { id: 'ep-description', type: 'text', autocomplete: 'off', value: ep ? ep.description : null });
  const error = h('p', { id: 'form-error', class: 'form-error', role: 'alert', hidden: true });
  const boxes = names.map((n) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'eventTypes', value: n, checked: chosen.has(n) }),
    h('span', { class: 'mono' }, n), about.get(n) && h('span', { class: 'muted' }, about.get(n))));
  const save = h('button', { id: 'ep-save', type: 'submit', class: 'btn btn-primary' }, ep ? 'Save' : 'Create');
  const form = h('form', { id: 'endpoint-form', class: 'form' },
    h('h2', { id: 'endpoint-dialog-title' }, ep ? 'Edit endpoint' : 'Add endpoint'),
    h('label', { for: 'ep-url' }, 'URL'), url,
    h('label', { for: 'ep-description' }, 'Description'), desc,
    h('fieldset', {},
      h('legend', {}, 'Event types'),
      h('p', { class: 'muted' }, names.length ? 'Leave all unchecked to receive every event type.' : 'The catalogue has no event types: this endpoint receives every event.'),
      h('div', { class: 'checks' }, boxes)),
    error,
    h('div', { class: 'actions' },
      h('button', { id: 'ep-cancel', type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cancel'), save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const filterTypes = [...form.querySelectorAll('input[name=eventTypes]:checked')].map((b) => b.value);
    const body = { url: url.value.trim(), description: desc.value, filterTypes: filterTypes.length ? filterTypes : null };
    const base = `/app/${seg(app.id)}/endpoint`;
    error.hidden = true;
    const saved = await act(save, () => api(ep ? `${base}/${seg(ep.id)}` : base, { method: ep ? 'PATCH' : 'POST', body }),
      ep ? 'Endpoint saved' : 'Endpoint created', (err) => { error.textContent = err.message; error.hidden = false; });
    if (!saved) return;
    dlg.close();
    if (onSaved) onSaved(saved);
    else go(`#/app/${seg(app.id)}/endpoint/${seg(saved.id)}`);
  });
  const dlg = openDialog('endpoint-dialog', form, url);
}

// ---------------------------------------------------------------------------------------------
// Endpoint detail: live parts (stats, chart, attempts) kept in holders that refresh() refills

/** The endpoint's attempts in the chart's window, oldest first (the API's order). */
async function windowAttempts(path, win) {
  const w = WINDOWS[win];
  const size = w.ms / w.buckets;
  // Buckets line up on multiples of their size, so they stay put from one poll to the next.
  const end = Math.ceil(Date.now() / size) * size;
  const start = end - w.ms;
  const r = await pages(path, { after: new Date(start).toISOString() }, CHART_PAGES);
  return { ...r, start, size, win };
}

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function buckets(att) {
  const n = WINDOWS[att.win].buckets;
  const bs = Array.from({ length: n }, (_, i) => ({ t: att.start + i * att.size, ok: 0, fail: 0, ms: [] }));
  for (const a of att.items) {
    const i = Math.floor((Date.parse(a.timestamp) - att.start) / att.size);
    if (i < 0 || i >= n) continue;
    if (a.status === 0) bs[i].ok++;
    else if (a.status === 2) bs[i].fail++;
    bs[i].ms.push(a.responseDurationMs);
  }
  for (const b of bs) b.median = median(b.ms);
  return bs;
}

/** A round upper bound for an axis (1, 2, 2.5 or 5 times a power of ten). */
function niceMax(x) {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => v >= x);
}

/**
 * svg#chart: deliveries and failures as bars per bucket, median latency as a line; legend;
 * summary. Drawn `width` units wide, the width it is shown at, so its text keeps the page's size.
 */
function chart(att, width) {
  const w = WINDOWS[att.win];
  const bs = buckets(att);
  const W = Math.max(300, Math.round(width));
  const H = 240; const L = 40; const R = 56; const T = 24; const B = 28;
  const pw = W - L - R; const ph = H - T - B;
  const deliveries = bs.reduce((s, b) => s + b.ok, 0);
  const failures = bs.reduce((s, b) => s + b.fail, 0);
  // At least 2, so the middle gridline is a whole number of attempts.
  const yMax = niceMax(Math.max(2, ...bs.map((b) => Math.max(b.ok, b.fail))));
  const hasMs = bs.some((b) => b.median != null);
  const msMax = niceMax(Math.max(...bs.map((b) => b.median || 0)));
  const bw = pw / bs.length;
  const y = (v) => T + ph - (v / yMax) * ph;
  const yMs = (v) => T + ph - (v / msMax) * ph;
  const when = (t) => new Date(t).toLocaleString(undefined, w.tick);

  const grid = [0, 0.5, 1].map((f) => [
    svg('line', { class: 'grid', x1: L, x2: L + pw, y1: y(f * yMax), y2: y(f * yMax) }),
    svg('text', { class: 'axis', x: L - 6, y: y(f * yMax) + 4, 'text-anchor': 'end' }, +(f * yMax).toFixed(1)),
    hasMs && svg('text', { class: 'axis', x: L + pw + 6, y: yMs(f * msMax) + 4 }, `${+(f * msMax).toFixed(1)} ms`),
  ]);
  const ticks = (W < 560 ? [0, 0.5, 1] : [0, 0.25, 0.5, 0.75, 1]).map((f) => {
    const i = Math.round(f * bs.length);
    const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
    return svg('text', { class: 'axis', x: L + i * bw, y: H - 8, 'text-anchor': anchor }, when(att.start + i * att.size));
  });
  const bar = (cls, i, off, v, what) => svg('rect', { class: cls, x: L + i * bw + bw * off, width: bw * 0.38, y: y(v), height: T + ph - y(v) },
    svg('title', {}, `${when(bs[i].t)}: ${v} ${what}`));
  const bars = bs.map((b, i) => [b.ok && bar('bar-ok', i, 0.1, b.ok, 'delivered'), b.fail && bar('bar-fail', i, 0.52, b.fail, 'failed')]);
  // The latency line breaks where a bucket has no attempt rather than drawing through it.
  let d = '';
  let pen = false;
  const dots = [];
  bs.forEach((b, i) => {
    if (b.median == null) { pen = false; return; }
    const px = (L + (i + 0.5) * bw).toFixed(1);
    const py = yMs(b.median).toFixed(1);
    d += `${pen ? 'L' : 'M'}${px},${py} `;
    pen = true;
    dots.push(svg('circle', { class: 'latency-dot', cx: px, cy: py, r: 3 }, svg('title', {}, `${when(b.t)}: median ${Math.round(b.median)} ms`)));
  });
  const overall = median(att.items.map((a) => a.responseDurationMs));
  const summary = att.items.length
    ? `In ${w.label}: ${deliveries} delivered, ${failures} failed, median latency ${Math.round(overall)} ms.`
    : `No attempts in ${w.label}.`;
  const el = svg('svg', {
    id: 'chart', class: 'chart-svg', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-labelledby': 'chart-title', 'aria-describedby': 'chart-summary',
    'data-deliveries': deliveries, 'data-failures': failures, 'data-window': att.win,
  },
  svg('title', { id: 'chart-title' }, `Deliveries, failures and median latency over ${w.label}`),
  svg('text', { class: 'axis-title', x: 0, y: 12 }, 'attempts'),
  svg('text', { class: 'axis-title', x: W, y: 12, 'text-anchor': 'end' }, 'latency'),
  grid, bars, d && svg('path', { class: 'latency', d }), dots,
  svg('line', { class: 'axis-line', x1: L, x2: L + pw, y1: T + ph, y2: T + ph }),
  ticks,
  !att.items.length && svg('text', { class: 'axis', x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle' }, summary));
  const legend = h('ul', { class: 'legend', 'aria-hidden': 'true' },
    h('li', {}, h('span', { class: 'swatch sw-ok' }), 'Delivered'),
    h('li', {}, h('span', { class: 'swatch sw-fail' }), 'Failed'),
    h('li', {}, h('span', { class: 'swatch sw-latency' }), 'Median latency'));
  const capped = !att.done && h('p', { class: 'note' },
    `More than ${att.items.length} attempts in this window: the chart and the list stop at the first ${att.items.length}. Choose a shorter window to see the latest.`);
  return [el, legend, h('p', { id: 'chart-summary', class: 'summary' }, summary), capped];
}

/** One attempt as a table row; `extra` cells (links, resend) go at the end. */
function attemptRow(a, ...extra) {
  return h('tr', { 'data-attempt-id': a.id, 'data-status': a.status },
    h('td', {}, badge(a.status)),
    h('td', { class: 'at-code mono' }, a.responseStatusCode || '—'),
    h('td', { class: 'at-error' }, a.errorClass || ''),
    h('td', { class: 'at-response' }, a.response && a.response !== '{}' ? h('pre', { class: 'excerpt', tabindex: 0, title: a.response }, a.response) : h('span', { class: 'muted' }, '—')),
    h('td', { class: 'at-time nowrap' }, timeEl(a.timestamp)),
    h('td', { class: 'mono nowrap' }, `${a.responseDurationMs} ms`),
    h('td', { class: 'nowrap' }, `${a.trigger || (a.triggerType ? 'manual' : 'scheduled')}${a.attempt ? ` #${a.attempt}` : ''}`),
    extra.map((x) => h('td', {}, x)));
}

const ATTEMPT_HEADS = ['Status', 'Code', 'Error', 'Response', 'Time', 'Duration', 'Trigger'];

/** A key that changes when a list's items or their statuses do: unchanged lists are not redrawn. */
const sig = (items) => items.map((i) => `${i.id}:${i.status}`).join();

function statsList(s) {
  const item = (label, n, st) => h('div', { class: `stat st-${st}` }, h('dt', {}, label), h('dd', { 'data-stat': label }, n));
  return h('dl', { class: 'stats' },
    item('success', s.success, 0), item('pending', s.pending + s.sending, 1),
    item('fail', s.fail, 2), item('skipped', s.canceled, 4));
}

function resendButton(path, attrs, label) {
  const b = h('button', { type: 'button', class: 'btn btn-small resend', 'aria-label': label, ...attrs }, 'Resend');
  b.addEventListener('click', async () => {
    if (await act(b, () => api(path, { method: 'POST', body: {} }), 'Resend queued')) refresh(false);
  });
  return b;
}

// ---------------------------------------------------------------------------------------------
// Views: endpoint detail

async function endpointView({ app: appId, ep: epId }) {
  const appBase = `/app/${seg(appId)}`;
  const base = `${appBase}/endpoint/${seg(epId)}`;
  const attPath = `${appBase}/attempt/endpoint/${seg(epId)}`;
  let win = '24h';
  const [app, ep0, stats, headers, types, att0] = await Promise.all([
    appOf(appId), api(base), api(`${base}/stats`),
    // A configured endpoint's headers are in hookline.toml: the API has none to show (404).
    api(`${base}/headers`).catch((e) => { if (e.status === 404) return null; throw e; }),
    catalogue(), windowAttempts(attPath, win),
  ]);
  let ep = ep0;
  let statsKey = null;
  const manage = can('ManageEndpoint');

  const title = h('h2', { tabindex: -1, class: 'mono ep-title' });
  const stateEl = h('span');
  const meta = h('dl', { class: 'meta meta-row' });
  const toggle = manage && h('button', { id: 'ep-toggle', type: 'button', class: 'btn' });
  const paint = () => {
    title.textContent = ep.url;
    stateBadge(ep, stateEl);
    const item = (dt, ...dd) => h('div', {}, h('dt', {}, dt), h('dd', {}, dd));
    swap(meta, item('Description', ep.description || '—'), item('Event types', typesText(ep)),
      item('Id', h('span', { class: 'mono' }, ep.id, ep.uid ? ` (${ep.uid})` : '')), item('Created', timeEl(ep.createdAt)));
    if (toggle) toggle.textContent = ep.disabled ? 'Enable' : 'Disable';
  };
  paint();

  const statsHold = h('div', { id: 'stats' });
  const latestHold = h('div', { class: 'latest' });
  const showStats = (s) => {
    if (JSON.stringify(s) === statsKey) return;
    statsKey = JSON.stringify(s);
    swap(statsHold, statsList(s));
  };
  showStats(stats);
  const chartHold = h('div', { class: 'chart' });
  let shownAtt = att0;
  let chartKey = null;
  // Redrawn only when its width or what it shows changed, so a poll leaves it alone most of the
  // time. Before the view is on the page its width is a guess; the observer then draws it again.
  const drawChart = () => {
    const width = chartHold.clientWidth || Math.min(760, document.documentElement.clientWidth - 80);
    const key = `${width}|${shownAtt.win}|${shownAtt.start}|${sig(shownAtt.items)}`;
    if (key === chartKey) return;
    chartKey = key;
    swap(chartHold, chart(shownAtt, width));
  };
  new ResizeObserver(drawChart).observe(chartHold);
  const resend = can('CreateAttempts');
  const attempts = liveTable('attempts', [...ATTEMPT_HEADS, 'Message', resend && 'Action'], (a) => a.id, (a) => attemptRow(a,
    h('a', { href: `#/app/${seg(app.id)}/msg/${seg(a.msgId)}`, class: 'mono id-link', title: a.msgId }, a.msgId),
    resend && resendButton(`${appBase}/msg/${seg(a.msgId)}/endpoint/${seg(ep.id)}/resend`,
      { 'data-msg-id': a.msgId }, `Resend message ${a.msgId}`)));
  const showAttempts = (att) => {
    shownAtt = att;
    drawChart();
    const a = att.items[att.items.length - 1];
    swap(latestHold, h('h4', {}, 'Latest attempt'), a
      ? h('p', {}, badge(a.status), ' ', h('span', { class: 'mono' }, a.responseStatusCode || '—'), ' · ', timeEl(a.timestamp))
      : h('p', { class: 'muted' }, `None in ${WINDOWS[att.win].label}.`));
    attempts.fill([...att.items].reverse(), `No attempts in ${WINDOWS[att.win].label}.`); // newest first
  };
  showAttempts(att0);

  const refreshAll = async () => {
    const [e, s, att] = await Promise.all([api(base), api(`${base}/stats`), windowAttempts(attPath, win)]);
    ep = e;
    paint();
    showStats(s);
    showAttempts(att);
  };

  if (toggle) {
    toggle.addEventListener('click', async () => {
      const r = await act(toggle, () => api(base, { method: 'PATCH', body: { disabled: !ep.disabled } }),
        (x) => (x.disabled ? 'Endpoint disabled' : 'Endpoint enabled'));
      if (r) { ep = r; paint(); }
    });
  }
  const edit = manage && h('button', {
    id: 'ep-edit', type: 'button', class: 'btn',
    onclick: () => endpointForm(app, ep, (saved) => { ep = saved; paint(); }),
  }, 'Edit');
  const del = manage && h('button', { id: 'ep-delete', type: 'button', class: 'btn btn-danger' }, 'Delete');
  if (del) {
    del.addEventListener('click', async () => {
      if (!await confirmDialog('Delete this endpoint?', `${ep.url} will get no more messages, and its secret is gone for good.`, 'Delete')) return;
      if (await act(del, () => api(base, { method: 'DELETE' }), 'Endpoint deleted')) go(`#/app/${seg(app.id)}/endpoints`);
    });
  }

  const winSel = h('select', { id: 'chart-window', 'aria-label': 'Chart window' },
    Object.keys(WINDOWS).map((k) => h('option', { value: k, selected: k === win }, k)));
  winSel.addEventListener('change', () => { win = winSel.value; refresh(true); });

  const el = h('section', { id: 'endpoint-detail', class: 'view', 'data-endpoint-id': ep.id },
    appHeader(app, 'endpoints'),
    h('div', { class: 'view-head' },
      h('div', { class: 'title-block' }, title, stateEl),
      h('div', { class: 'toolbar' },
        h('a', { class: 'btn', href: `#/app/${seg(app.id)}/messages?endpoint=${seg(ep.id)}` }, 'Messages'),
        edit, toggle, del, refreshButton())),
    meta,
    // The chart first: it is what people come to look at.
    h('div', { class: 'overview' },
      h('section', { class: 'card' },
        h('div', { class: 'card-head' }, h('h3', {}, 'Deliveries'), h('label', { class: 'inline' }, 'Window ', winSel)),
        chartHold),
      card('Messages, last 28 days', statsHold, latestHold)),
    h('div', { class: 'grid' },
      secretCard(base),
      card('Custom headers', h('div', { id: 'ep-headers' }, headersText(headers))),
      resend && card('Send again', exampleForm(base, types), recoverForm(base))),
    h('section', { class: 'card' }, h('h3', {}, 'Attempts'), attempts.el));
  return { title: ep.url, el, refresh: refreshAll };
}

function headersText(headers) {
  if (!headers) return h('p', { class: 'muted' }, 'Set in hookline.toml.');
  const list = Object.entries(headers.headers || {});
  if (!list.length) return h('p', { class: 'muted' }, 'No custom headers.');
  return h('pre', { class: 'headers' }, list.map(([k, v]) => `${k}: ${v}\n`));
}

function secretCard(base) {
  const value = h('code', { id: 'secret-value', class: 'secret' });
  const shown = h('div', { class: 'secret-row', hidden: true }, value,
    h('button', {
      type: 'button', class: 'btn btn-small',
      onclick: () => navigator.clipboard.writeText(value.textContent).then(() => toast('Secret copied'), () => toast('Copy failed: select the secret and copy it.', true)),
    }, 'Copy'));
  const show = (key) => { value.textContent = key; shown.hidden = false; if (reveal) { reveal.textContent = 'Hide'; reveal.setAttribute('aria-expanded', 'true'); } };
  const reveal = can('ViewEndpointSecret') && h('button', { id: 'secret-reveal', type: 'button', class: 'btn', 'aria-expanded': 'false' }, 'Reveal');
  if (reveal) {
    reveal.addEventListener('click', async () => {
      if (!shown.hidden) {
        shown.hidden = true;
        value.textContent = ''; // out of the DOM while hidden
        reveal.textContent = 'Reveal';
        reveal.setAttribute('aria-expanded', 'false');
        return;
      }
      const r = await act(reveal, () => api(`${base}/secret`));
      if (r) show(r.key);
    });
  }
  const rotate = can('ManageEndpointSecret') && h('button', { id: 'secret-rotate', type: 'button', class: 'btn' }, 'Rotate');
  if (rotate) {
    rotate.addEventListener('click', async () => {
      if (!await confirmDialog('Rotate the signing secret?', 'Deliveries are signed with the new secret and, for 24 hours, the old one too: update the receiver within that time.', 'Rotate')) return;
      const r = await act(rotate, () => api(`${base}/secret/rotate`, { method: 'POST', body: {} }), 'Secret rotated');
      if (r && r.key) show(r.key);
    });
  }
  return card('Signing secret',
    h('p', { class: 'muted' }, 'Verify each delivery\'s webhook-signature with this secret.'),
    shown, h('div', { class: 'actions' }, reveal, rotate));
}

function exampleForm(base, types) {
  const sel = h('select', { id: 'example-type', 'aria-label': 'Event type' },
    ['svix.ping', ...types.map((t) => t.name).filter((n) => n !== 'svix.ping')].map((n) => h('option', { value: n }, n)));
  const send = h('button', { id: 'example-send', type: 'button', class: 'btn' }, 'Send example');
  send.addEventListener('click', async () => {
    const m = await act(send, () => api(`${base}/send-example`, { method: 'POST', body: { eventType: sel.value } }),
      (r) => `Example sent: ${r.eventType} (${r.id})`);
    if (m) refresh(false);
  });
  return h('div', { class: 'subform' }, h('p', { class: 'muted' }, 'Send an example event to this endpoint only:'),
    h('div', { class: 'inline-form' }, sel, send));
}

function recoverForm(base) {
  const since = h('input', { id: 'recover-since', type: 'datetime-local', value: toLocalInput(new Date(Date.now() - 86400e3)) });
  const btn = h('button', { id: 'recover', type: 'button', class: 'btn' }, 'Recover');
  btn.addEventListener('click', async () => {
    const r = await act(btn, () => {
      const t = rfc3339(since.value);
      if (!t) throw new ApiError(0, 'input', 'Choose the time to recover from.');
      return api(`${base}/recover`, { method: 'POST', body: { since: t } });
    }, 'Recovery started: failed and skipped messages since then are being sent again');
    if (r) refresh(false);
  });
  return h('div', { class: 'subform' }, h('p', { class: 'muted' }, 'Recover: send every failed or skipped message since'),
    h('div', { class: 'inline-form' }, h('label', { for: 'recover-since', class: 'sr-only' }, 'Since'), since, btn));
}

// ---------------------------------------------------------------------------------------------
// Views: messages

/**
 * Messages matching the filters, newest first, each with a status. A message has a status per
 * endpoint, so without an endpoint filter each endpoint's list is read and the worst one shown.
 */
async function findMessages(appBase, eps, f) {
  const q = { with_content: false, event_types: f.type, after: rfc3339(f.since), before: rfc3339(f.until) };
  const atEndpoint = (id) => pages(`${appBase}/endpoint/${seg(id)}/msg`, { ...q, status: f.status }, CHART_PAGES);
  let rows;
  let done;
  if (f.endpoint) {
    const r = await atEndpoint(f.endpoint);
    rows = r.items.map((m) => ({ msg: m, status: m.status }));
    done = r.done;
  } else {
    const [all, ...per] = await Promise.all([f.status ? null : pages(`${appBase}/msg`, q, CHART_PAGES), ...eps.map((e) => atEndpoint(e.id))]);
    const found = new Map(); // msg id -> {msg, statuses}
    for (const m of per.flatMap((r) => r.items)) {
      const x = found.get(m.id) || { msg: m, statuses: [] };
      x.statuses.push(m.status);
      found.set(m.id, x);
    }
    const worst = (x) => x && STATUS_RANK.find((s) => x.statuses.includes(s));
    if (all) {
      rows = all.items.map((m) => ({ msg: m, status: worst(found.get(m.id)) }));
      done = all.done;
    } else {
      // Filtered by status: the messages with that status at one endpoint at least.
      rows = [...found.values()].map((x) => ({ msg: x.msg, status: Number(f.status) }));
      done = per.every((r) => r.done);
    }
  }
  rows.sort((a, b) => Date.parse(b.msg.timestamp) - Date.parse(a.msg.timestamp) || (a.msg.id < b.msg.id ? 1 : -1));
  return { rows, done };
}

const FILTERS = [['endpoint', 'f-endpoint'], ['type', 'f-event-type'], ['status', 'f-status'], ['since', 'f-since'], ['until', 'f-until']];

async function messagesView({ app: appId }, q) {
  const f = Object.fromEntries(FILTERS.map(([k]) => [k, q.get(k) || '']));
  const appBase = `/app/${seg(appId)}`;
  const [app, eps, types] = await Promise.all([appOf(appId), pages(`${appBase}/endpoint`, {}), catalogue()]);
  let res = await findMessages(appBase, eps.items, f);
  let note = null;
  if (!res.done && !f.since) {
    // Lists run oldest first: when there are more than fit, the latest day beats the oldest page.
    res = await findMessages(appBase, eps.items, { ...f, since: toLocalInput(new Date(Date.now() - 86400e3)) });
    note = 'There are more messages than fit on one page: showing the last 24 hours. Set "Since" to look further back.';
  }
  if (!res.done) note = `Showing the first ${res.rows.length} matching messages: narrow the time range to see later ones.`;

  const select = (id, label, opts, value) => h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id }, opts.map(([v, t]) => h('option', { value: v, selected: v === value }, t))));
  const input = (id, label, value) => h('div', { class: 'field' }, h('label', { for: id }, label),
    h('input', { id, type: 'datetime-local', value }));
  const typeNames = [...new Set(['svix.ping', ...types.map((t) => t.name), f.type].filter(Boolean))];
  const form = h('form', { class: 'filters', 'aria-label': 'Filter messages' },
    select('f-endpoint', 'Endpoint', [['', 'All endpoints'], ...eps.items.map((e) => [e.id, e.url])], f.endpoint),
    select('f-event-type', 'Event type', [['', 'All event types'], ...typeNames.map((n) => [n, n])], f.type),
    select('f-status', 'Status', [['', 'Any status'], ...[0, 1, 2, 4].map((s) => [String(s), STATUS[s]])], f.status),
    input('f-since', 'Since', f.since), input('f-until', 'Until', f.until),
    h('div', { class: 'field actions' },
      h('button', { id: 'f-apply', type: 'submit', class: 'btn btn-primary' }, 'Apply'),
      h('a', { href: `#/app/${seg(app.id)}/messages`, class: 'btn' }, 'Clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, id] of FILTERS) { const v = $(`#${id}`, form).value; if (v) p.set(k, v); }
    const s = p.toString();
    go(`#/app/${seg(app.id)}/messages${s ? `?${s}` : ''}`);
  });
  const row = ({ msg, status }) => h('tr', { 'data-msg-id': msg.id },
    h('td', { class: 'nowrap' }, timeEl(msg.timestamp)),
    h('td', { class: 'msg-type mono' }, msg.eventType),
    h('td', { class: 'msg-status' }, badge(status)),
    h('td', {}, h('a', { href: `#/app/${seg(app.id)}/msg/${seg(msg.id)}`, class: 'mono' }, msg.id)),
    h('td', { class: 'mono muted' }, msg.eventId || ''));
  return {
    title: 'Messages',
    el: h('section', { id: 'messages-view', class: 'view' }, appHeader(app, 'messages'),
      h('div', { class: 'view-head' }, h('h2', { tabindex: -1 }, 'Messages'),
        h('span', { class: 'muted' }, `${res.rows.length} shown`)),
      form, note && h('p', { class: 'note' }, note),
      table('messages', ['Time', 'Event type', 'Status', 'Message', 'Event id'], res.rows, row, 'No messages match.')),
  };
}

async function messageView({ app: appId, msg: msgId }) {
  const appBase = `/app/${seg(appId)}`;
  const mBase = `${appBase}/msg/${seg(msgId)}`;
  const live = () => Promise.all([pages(`${mBase}/endpoint`, {}), pages(`${appBase}/attempt/msg/${seg(msgId)}`, {})]);
  const [app, msg, first] = await Promise.all([appOf(appId), api(mBase), live()]);
  const resend = can('CreateAttempts');
  const epLink = (id, url) => h('a', { href: `#/app/${seg(app.id)}/endpoint/${seg(id)}`, class: 'mono' }, url);
  // A destination's row is rebuilt when its status changes; attempts never change once made.
  const dests = liveTable('msg-destinations', ['Endpoint', 'Status', 'Next attempt', resend && 'Action'],
    (d) => `${d.id}|${d.status}|${d.nextAttempt}|${d.url}`, (d) => h('tr', { 'data-endpoint-id': d.id, 'data-status': d.status },
      h('td', {}, epLink(d.id, d.url)), h('td', {}, badge(d.status)), h('td', {}, d.nextAttempt ? timeEl(d.nextAttempt) : '—'),
      resend && h('td', {}, resendButton(`${mBase}/endpoint/${seg(d.id)}/resend`, { 'data-endpoint-id': d.id }, `Resend to ${d.url}`))));
  const attempts = liveTable('msg-attempts', [...ATTEMPT_HEADS, 'Endpoint'], (a) => a.id, (a) => attemptRow(a, epLink(a.endpointId, a.url)));
  const paint = ([d, a]) => {
    dests.fill(d.items, 'No endpoint has taken this message.');
    attempts.fill([...a.items].reverse(), 'No attempts yet.');
  };
  paint(first);
  const el = h('section', { id: 'message-detail', class: 'view', 'data-msg-id': msg.id }, appHeader(app, 'messages'),
    h('div', { class: 'view-head' },
      h('h2', { tabindex: -1, class: 'mono' }, msg.eventType),
      h('div', { class: 'toolbar' }, refreshButton())),
    h('dl', { class: 'meta' },
      h('dt', {}, 'Message id'), h('dd', { class: 'mono' }, msg.id),
      h('dt', {}, 'Event id'), h('dd', { class: 'mono' }, msg.eventId || '—'),
      h('dt', {}, 'Accepted'), h('dd', {}, timeEl(msg.timestamp)),
      h('dt', {}, 'Channels'), h('dd', {}, msg.channels && msg.channels.length ? msg.channels.join(', ') : '—')),
    h('section', { class: 'card' }, h('h3', {}, 'Payload'),
      h('pre', { id: 'msg-payload', class: 'payload', tabindex: 0 }, JSON.stringify(msg.payload, null, 2))),
    h('section', { class: 'card' }, h('h3', {}, 'Endpoints'), dests.el),
    h('section', { class: 'card' }, h('h3', {}, 'Attempts'), attempts.el));
  return { title: msg.eventType, el, refresh: async () => paint(await live()) };
}

// ---------------------------------------------------------------------------------------------
// Start

$('#signout').addEventListener('click', signOut);
window.addEventListener('hashchange', () => {
  // A new portal link opened in this tab replaces the session.
  if (/(?:^#|&)token=/.test(location.hash)) { resetSession(); start(); } else route();
});
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refresh(false); });
start();
