// warden's status page: reads /api/devices, /api/quarantine and /api/summary every few
// seconds and shows them in plain words. With the admin token (kept in this tab's
// sessionStorage, sent as a Bearer header, never as a cookie) it can quarantine and release.
// Everything a device may have chosen (its name, host name) is inserted as text, never as HTML.
'use strict';

const REFRESH_MS = 5000;
const TOKEN_KEY = 'warden-admin-token';

const page = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  devices: [],
  quarantines: [],
  summary: null,
  confirming: null, // the MAC whose quarantine form is open
  openDetails: new Set(), // the MACs whose details the reader opened
  busy: false,
};

// ---- small helpers ----

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.includes('-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function bytes(n) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function when(ms) {
  const d = new Date(ms);
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return 'today ' + clock(ms);
  return d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' }) + ' ' + clock(ms);
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}

function deviceByMac(mac) {
  return page.devices.find((d) => d.mac === mac);
}

// What a person calls a device: its name, its host name, or its address.
function label(mac) {
  const d = deviceByMac(mac);
  return (d && (d.name || d.hostname)) || mac;
}

function typeName(type) {
  // "unknown": no rule recognised it; shown like a type nobody has seen.
  return type && type !== 'unknown' ? type.charAt(0).toUpperCase() + type.slice(1) : '—';
}

const STATE_WORDS = {
  ok: ['OK', 'ok'],
  'ok (expiring)': ['Being released', 'ok'],
  alerting: ['Unusual activity', 'alerting'],
  restricted: ['Restricted', 'restricted'],
  isolated: ['Isolated', 'isolated'],
};

const LEVEL_WORDS = {
  isolate: 'Isolated: cut off from the internet and from the other devices.',
  restricted: 'Restricted: may only get an address and look up names; nothing else gets through.',
};

function say(text, kind) {
  const m = document.getElementById('message');
  m.textContent = text;
  m.className = kind || '';
}

// ---- the API ----

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.auth) headers.Authorization = 'Bearer ' + page.token;
  const response = await fetch(path, {
    method: options.method || 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: 'omit',
    cache: 'no-store',
  });
  let data = null;
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    const error = new Error((data && data.error) || 'HTTP ' + response.status);
    error.status = response.status;
    throw error;
  }
  return data;
}

async function refresh() {
  try {
    const [devices, quarantines, summary] = await Promise.all([
      api('/api/devices'), api('/api/quarantine'), api('/api/summary')]);
    page.devices = devices;
    page.quarantines = quarantines;
    page.summary = summary;
    document.getElementById('status').textContent = 'Updated ' + clock(summary.time_ms);
    render();
  } catch (e) {
    document.getElementById('status').textContent = 'Cannot reach warden: ' + e.message;
  }
}

// ---- drawing ----

function renderCards() {
  const s = page.summary;
  document.getElementById('threats-today').textContent = s ? s.threats.today : '–';
  document.getElementById('threats-week').textContent = s ? s.threats.week : '–';
  document.getElementById('quarantined-count').textContent = page.quarantines.length;
  document.getElementById('device-count').textContent = page.devices.length;
}

// A port without warden's programs (or expected and absent) leaves its devices unguarded:
// said at the top, in words, until it is fixed.
function renderPorts() {
  const ports = (page.summary && page.summary.ports) || [];
  const unguarded = ports.filter((p) => p.state === 'fault' || (p.state === 'waiting' && !p.optional));
  const box = document.getElementById('ports-warning');
  box.hidden = unguarded.length === 0;
  box.textContent = unguarded.length === 0 ? '' : 'Not protected: ' + unguarded.map((p) =>
    p.state === 'fault' ? p.interface + ' (' + p.faults.join('; ') + ')'
                        : p.interface + ' (the interface is not there)').join(', ');
}

function renderQuarantines() {
  const list = document.getElementById('quarantine-list');
  const evidence = (page.summary && page.summary.evidence) || {};
  list.replaceChildren();
  document.getElementById('quarantine-empty').hidden = page.quarantines.length > 0;
  for (const q of page.quarantines) {
    const item = el('li', { class: q.level, 'data-mac': q.mac });
    const title = el('div', { class: 'title' },
      el('strong', { text: label(q.mac) }),
      el('span', { class: 'muted', text: q.mac }));
    item.append(title);
    item.append(el('p', { text: LEVEL_WORDS[q.level] || q.level }));
    const who = q.origin === 'detector' ? 'warden noticed it' : 'by the administrator';
    item.append(el('p', { text: 'Why: ' + (q.reason || 'no reason given') + ' (' + who + ')' }));
    if (evidence[q.mac]) item.append(el('p', { text: 'What warden saw: ' + evidence[q.mac] }));
    const until = q.expires_ms ? 'until ' + when(q.expires_ms) : 'until released';
    item.append(el('p', { class: 'muted', text: 'Since ' + when(q.since_ms) + ', ' + until + '.' }));
    if (page.token) {
      const release = el('button', { type: 'button', class: 'primary', text: 'Release', 'data-action': 'release' });
      release.addEventListener('click', () => releaseDevice(q.mac));
      item.append(release);
    }
    list.append(item);
  }
}

function quarantineForm(mac) {
  const level = el('select', { 'aria-label': 'How', 'data-field': 'level' },
    el('option', { value: 'isolate', text: 'Isolate (cut off)' }),
    el('option', { value: 'restricted', text: 'Restrict (addresses and names only)' }));
  const duration = el('select', { 'aria-label': 'For how long', 'data-field': 'duration' },
    el('option', { value: '1h', text: 'for 1 hour' }),
    el('option', { value: '1d', text: 'for 1 day' }),
    el('option', { value: 'forever', text: 'until released' }));
  const reason = el('input', { type: 'text', maxLength: 200, placeholder: 'Reason (optional)', 'data-field': 'reason' });
  const go = el('button', { type: 'button', class: 'danger', text: 'Confirm quarantine', 'data-action': 'confirm' });
  const cancel = el('button', { type: 'button', text: 'Cancel' });
  go.addEventListener('click', () => quarantineDevice(mac, level.value, duration.value, reason.value));
  cancel.addEventListener('click', () => { page.confirming = null; render(); });
  return el('div', { class: 'confirm' }, level, duration, reason, go, cancel);
}

function renderDevices() {
  const body = document.querySelector('#devices tbody');
  const today = (page.summary && page.summary.today) || {};
  const quarantined = new Set(page.quarantines.map((q) => q.mac));
  body.replaceChildren();
  for (const d of page.devices) {
    const [word, css] = STATE_WORDS[d.state] || [d.state, 'unknown'];
    const t = today[d.mac] || { up: 0, down: 0, lateral: 0 };
    // The engine's and the network's facts sit behind a disclosure, which stays open across
    // the refreshes once opened.
    const more = el('details', { class: 'more' }, el('summary', { text: 'Details' }),
      el('span', { class: 'sub', text: [d.mac, d.ip4, d.vendor].filter(Boolean).join(' · ') }));
    if (page.openDetails.has(d.mac)) more.open = true;
    more.addEventListener('toggle', () => {
      if (more.open) page.openDetails.add(d.mac); else page.openDetails.delete(d.mac);
    });
    const name = el('td', {}, el('span', { text: d.name || d.hostname || 'Unnamed device' }), more);
    const traffic = el('td', { class: 'num' }, el('span', { text: '↓ ' + bytes(t.down) + '  ↑ ' + bytes(t.up) }));
    const row = el('tr', { 'data-mac': d.mac }, name, el('td', { text: typeName(d.type) }),
      el('td', {}, el('span', { class: 'badge ' + css, text: word })), traffic);
    const actions = el('td', { class: 'admin-only num' });
    if (page.token && !quarantined.has(d.mac)) {
      const button = el('button', { type: 'button', class: 'danger', text: 'Quarantine', 'data-action': 'quarantine' });
      button.addEventListener('click', () => { page.confirming = d.mac; render(); });
      actions.append(button);
    }
    row.append(actions);
    body.append(row);
    if (page.token && page.confirming === d.mac) {
      const cell = el('td', { colSpan: 5 }, el('span', { text: 'Quarantine ' + label(d.mac) + '?' }), quarantineForm(d.mac));
      body.append(el('tr', { class: 'confirm-row', 'data-mac': d.mac }, cell));
    }
  }
}

// One incident a row: what the device did, what warden did, and what was blocked since.
function incidentText(t) {
  const parts = [];
  if (t.text) parts.push(t.text);
  if (t.blocked > 0) parts.push(t.blocked + (t.blocked === 1 ? ' attempt' : ' attempts') + ' blocked since');
  if (t.kind === 'quarantine' && !t.open) parts.push('released');
  if (!t.threat) parts.push('not a threat: the administrator did it');
  return parts.join('; ');
}

function renderThreats() {
  const body = document.querySelector('#threats tbody');
  const recent = (page.summary && page.summary.threats.recent) || [];
  body.replaceChildren();
  document.getElementById('threats-empty').hidden = recent.length > 0;
  document.getElementById('threats').hidden = recent.length === 0;
  for (const t of recent) {
    body.append(el('tr', {},
      el('td', { text: when(t.time_ms) }),
      el('td', { text: t.mac === '00:00:00:00:00:00' ? 'the internet' : label(t.mac) }),
      el('td', {}, el('strong', { text: (t.action || t.kind) + ': ' }), el('span', { text: incidentText(t) }))));
  }
}

function render() {
  document.body.classList.toggle('admin-mode', Boolean(page.token));
  document.getElementById('unlock').hidden = Boolean(page.token);
  document.getElementById('admin-on').hidden = !page.token;
  renderCards();
  renderPorts();
  renderQuarantines();
  renderDevices();
  renderThreats();
}

// ---- changes (admin) ----

function lostToken(e) {
  if (e.status === 401) {
    page.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    say('The admin token was refused; unlock again.', 'error');
    render();
    return true;
  }
  return false;
}

async function quarantineDevice(mac, level, duration, reason) {
  if (page.busy) return;
  page.busy = true;
  try {
    const body = { mac, level, duration };
    if (reason.trim()) body.reason = reason.trim();
    await api('/api/quarantine', { method: 'POST', body, auth: true });
    page.confirming = null;
    say(label(mac) + ' is in quarantine.', 'done');
  } catch (e) {
    if (!lostToken(e)) say('Could not quarantine ' + label(mac) + ': ' + e.message, 'error');
  } finally {
    page.busy = false;
  }
  await refresh();
}

async function releaseDevice(mac) {
  if (page.busy) return;
  page.busy = true;
  try {
    await api('/api/quarantine/' + encodeURIComponent(mac) + '/release', { method: 'POST', body: {}, auth: true });
    say(label(mac) + ' is released.', 'done');
  } catch (e) {
    if (!lostToken(e)) say('Could not release ' + label(mac) + ': ' + e.message, 'error');
  } finally {
    page.busy = false;
  }
  await refresh();
}

async function unlock(event) {
  event.preventDefault();
  const input = document.getElementById('token');
  const candidate = input.value.trim();
  if (!candidate) return;
  page.token = candidate;
  try {
    await api('/api/auth', { auth: true });
    sessionStorage.setItem(TOKEN_KEY, candidate);
    input.value = '';
    say('Unlocked.', 'done');
  } catch (e) {
    page.token = '';
    say(e.status === 401 ? 'That is not the admin token.' : 'Cannot check the token: ' + e.message, 'error');
  }
  render();
}

function lock() {
  page.token = '';
  page.confirming = null;
  sessionStorage.removeItem(TOKEN_KEY);
  say('Locked.', '');
  render();
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('unlock').addEventListener('submit', unlock);
  document.getElementById('lock-button').addEventListener('click', lock);
  refresh();
  setInterval(() => { if (!page.confirming) refresh(); }, REFRESH_MS);
});
