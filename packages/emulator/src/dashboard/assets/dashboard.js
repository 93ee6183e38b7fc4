// The emulator's dashboard. Plain browser JavaScript, no build step; served as its own file so the page's
// Content-Security-Policy can forbid inline script. Everything that came in a request is put in the page as text
// (textContent, text nodes, checked http(s) URLs), never as markup.
'use strict';

const CONTROL = '/__emulator/';
const MAX_SHOWN = 500;
const MAX_ACTIVITY = 50;

const $ = (id) => document.getElementById(id);
const state = { config: null, faults: null };
const searchText = new WeakMap();

/** Builds an element: `attrs` are set as attributes/properties, `children` (strings become text nodes) appended. */
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** The URL when it is an absolute http(s) URL, else null (so `javascript:` and friends never become links). */
function safeUrl(value) {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function link(url, label) {
  const href = safeUrl(url);
  if (!href) return h('span', {}, String(url ?? ''));
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label || href);
}

function thumbnail(url, alt) {
  const src = safeUrl(url);
  return src ? h('img', { class: 'thumb', src, alt, loading: 'lazy', referrerpolicy: 'no-referrer' }) : null;
}

function bytes(n) {
  if (typeof n !== 'number') return undefined;
  return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
}

/** How many callers' requests the call carried (a queue or outbox merged them; 1 for an older client). */
function merged(size) {
  const n = Number.isInteger(size) && size > 1 ? size : 1;
  return n === 1 ? '1 request' : n + ' requests merged';
}

function time(ms) {
  const d = new Date(ms);
  const pad = (n, w) => String(n).padStart(w || 2, '0');
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
}

/** A definition list of the fields that are set. */
function fields(pairs) {
  const list = h('dl', { class: 'fields' });
  for (const [name, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    list.append(h('dt', {}, name), h('dd', {}, value));
  }
  return list.childElementCount ? list : null;
}

/** Data shown as formatted JSON when it parses as an object or array, else as text. */
function data(value) {
  if (typeof value !== 'string') return null;
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === 'object') return h('pre', { class: 'json' }, JSON.stringify(parsed, null, 2));
  } catch {
    // not JSON: shown as text below
  }
  return h('p', { class: 'text' }, value);
}

function renderElement(element) {
  const type = element && typeof element.MsgType === 'string' ? element.MsgType : '?';
  const c = element && element.MsgContent && typeof element.MsgContent === 'object' ? element.MsgContent : {};
  const box = h('div', { class: 'element', 'data-type': type }, h('span', { class: 'type' }, type));
  switch (type) {
    case 'TIMTextElem':
      box.append(h('p', { class: 'text' }, String(c.Text ?? '')));
      break;
    case 'TIMFaceElem':
      box.append(fields([['Index', c.Index], ['Data', c.Data]]) || '');
      break;
    case 'TIMLocationElem':
      box.append(fields([['Description', c.Desc], ['Latitude', c.Latitude], ['Longitude', c.Longitude]]) || '');
      break;
    case 'TIMCustomElem':
      box.append(data(c.Data) || '', fields([['Desc', c.Desc], ['Ext', c.Ext], ['Sound', c.Sound]]) || '');
      break;
    case 'TIMImageElem': {
      const infos = Array.isArray(c.ImageInfoArray) ? c.ImageInfoArray : [];
      const small = infos.find((i) => i && i.Type === 3) || infos.slice().sort((a, b) => a.Width * a.Height - b.Width * b.Height)[0];
      const large = infos.find((i) => i && i.Type === 1) || small;
      if (small) box.append(thumbnail(small.URL, 'image ' + (c.UUID ?? '')) || '');
      box.append(fields([['UUID', c.UUID], ['Format', c.ImageFormat], ['Size', large && large.Width + '×' + large.Height], ['Original', large && link(large.URL)]]) || '');
      break;
    }
    case 'TIMSoundElem':
      box.append(fields([['Length', c.Second !== undefined ? c.Second + ' s' : undefined], ['Size', bytes(c.Size)], ['UUID', c.UUID], ['URL', link(c.Url)]]) || '');
      break;
    case 'TIMFileElem':
      box.append(fields([['Name', c.FileName], ['Size', bytes(c.FileSize)], ['UUID', c.UUID], ['URL', link(c.Url)]]) || '');
      break;
    case 'TIMVideoFileElem':
      box.append(
        thumbnail(c.ThumbUrl, 'video thumbnail') || '',
        fields([
          ['Length', c.VideoSecond !== undefined ? c.VideoSecond + ' s' : undefined],
          ['Size', bytes(c.VideoSize)],
          ['Format', c.VideoFormat],
          ['Thumbnail', c.ThumbWidth !== undefined ? c.ThumbWidth + '×' + c.ThumbHeight : undefined],
          ['UUID', c.VideoUUID],
          ['URL', link(c.VideoUrl)],
        ]) || '',
      );
      break;
    case 'TIMRelayElem':
      box.append(renderRelay(c));
      break;
    default:
      box.append(h('pre', {}, JSON.stringify(c, null, 2)));
  }
  return box;
}

function renderRelay(c) {
  const relay = h('div', { class: 'relay' });
  relay.append(fields([['Title', c.Title], ['Messages', c.MsgNum], ['Text', c.CompatibleText], ['Stored as', c.JsonMsgKey]]) || '');
  if (Array.isArray(c.AbstractList) && c.AbstractList.length) relay.append(h('ul', { class: 'small' }, c.AbstractList.map((line) => h('li', {}, String(line)))));
  for (const item of Array.isArray(c.MsgList) ? c.MsgList : []) {
    const who = [item.From_Account, item.To_Account && '→ ' + item.To_Account, item.GroupId && 'in ' + item.GroupId].filter(Boolean).join(' ');
    const when = typeof item.MsgTimeStamp === 'number' ? new Date(item.MsgTimeStamp * 1000).toLocaleString() : '';
    relay.append(
      h('div', { class: 'relay-item' }, h('div', { class: 'meta' }, h('span', {}, who || 'unknown sender'), when && h('span', {}, when)), (Array.isArray(item.MsgBody) ? item.MsgBody : []).map(renderElement)),
    );
  }
  return relay;
}

function renderDelivery(d, isNew) {
  const body = d.body || {};
  const elements = Array.isArray(body.MsgBody) ? body.MsgBody : [];
  const card = h(
    'li',
    { class: isNew ? 'delivery new' : 'delivery', 'data-msgseq': d.MsgSeq },
    h(
      'div',
      { class: 'meta' },
      h('span', { class: 'seq' }, 'MsgSeq ' + d.MsgSeq),
      h('time', { datetime: new Date(d.at).toISOString() }, time(d.at)),
      h('span', {}, 'Random ' + d.Random),
      h('span', {}, 'from ' + (body.From_Account ?? 'the admin')),
      h('span', {}, bytes(d.bytes)),
      h('span', {}, elements.length + (elements.length === 1 ? ' element' : ' elements')),
      h('span', { class: 'merged' }, merged(d.batchSize)),
    ),
    elements.map(renderElement),
    body.CloudCustomData !== undefined && h('div', { class: 'cloud' }, h('span', { class: 'type' }, 'CloudCustomData'), data(body.CloudCustomData)),
  );
  searchText.set(card, JSON.stringify(body).toLowerCase() + ' ' + d.MsgSeq);
  return card;
}

function matches(card) {
  const query = $('filter').value.trim().toLowerCase();
  return !query || (searchText.get(card) || '').includes(query);
}

function applyFilter() {
  const list = $('deliveries');
  let shown = 0;
  for (const card of list.children) {
    card.hidden = !matches(card);
    if (!card.hidden) shown++;
  }
  const total = list.childElementCount;
  $('shown').textContent = total ? (shown === total ? '(' + total + ')' : '(' + shown + ' of ' + total + ')') : '';
  $('empty').hidden = total > 0;
}

function addDelivery(d, isNew) {
  const list = $('deliveries');
  const card = renderDelivery(d, isNew);
  card.hidden = !matches(card);
  list.prepend(card);
  while (list.childElementCount > MAX_SHOWN) list.lastElementChild.remove();
}

function showStats(s) {
  const rejected = s.rejected || {};
  const errors = Object.entries(rejected).reduce((sum, [code, n]) => (code === '10023' ? sum : sum + n), 0);
  $('c-requests').textContent = s.requests;
  $('c-accepted').textContent = s.accepted;
  $('c-throttled').textContent = rejected['10023'] || 0;
  $('c-duplicates').textContent = s.duplicates;
  $('c-faults').textContent = Object.values(s.faults || {}).reduce((a, b) => a + b, 0);
  $('c-errors').textContent = errors;
  $('c-busiest').textContent = s.maxAcceptedInOneSecond;
  $('c-gap').textContent = s.minGapMs === null ? '–' : s.minGapMs + ' ms';
}

function showSettings(config, faults) {
  state.config = config;
  state.faults = faults;
  const focused = document.activeElement;
  if (focused !== $('broadcast-enabled')) $('broadcast-enabled').checked = config.broadcastEnabled;
  if (focused !== $('rate')) $('rate').value = config.ratePerSecond === null ? '' : config.ratePerSecond;
  if (focused !== $('rate-model')) $('rate-model').value = config.rateModel;
  if (focused !== $('fault-rate')) $('fault-rate').value = faults.rate;
  const script = faults.script.length ? ', next: ' + faults.script.join(', ') : '';
  $('fault-plan').textContent = 'kinds: ' + faults.kinds.join(', ') + '; seed ' + faults.seed + '; slow answers ' + faults.slowMs + ' ms' + script;
}

/** A line for each call that did not simply deliver: refused (10023 and others), duplicate, or faulted. */
function activity(call) {
  if (call.code === 0 && !call.duplicate && !call.fault) return;
  const parts = [];
  if (call.fault) parts.push('fault ' + call.fault);
  if (call.duplicate) parts.push('duplicate: answered with MsgSeq ' + call.MsgSeq);
  else if (call.code === 0) parts.push('delivered as MsgSeq ' + call.MsgSeq);
  else if (call.code !== undefined) parts.push(call.info);
  else parts.push(call.fault === 'http502' ? 'HTTP 502' : 'no answer');
  const code = call.code !== undefined && call.code !== 0 ? h('span', { class: 'code' }, String(call.code)) : '';
  const list = $('activity');
  list.prepend(h('li', { class: call.duplicate ? 'duplicate' : 'refused' }, h('time', {}, time(call.at)), ' ', code, ' ', parts.join('; ')));
  while (list.childElementCount > MAX_ACTIVITY) list.lastElementChild.remove();
}

function snapshot(s) {
  $('app').textContent = 'SDKAppID ' + s.app.sdkAppId + ' · admin ' + s.app.admin;
  $('deliveries').replaceChildren();
  $('activity').replaceChildren();
  for (const d of s.deliveries) addDelivery(d, false);
  for (const call of s.activity) activity(call);
  showStats(s.stats);
  showSettings(s.config, s.faults);
  applyFilter();
}

async function control(name, body) {
  const status = $('settings-status');
  try {
    const res = await fetch(CONTROL + name, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) throw new Error(answer.error || 'HTTP ' + res.status);
    status.className = 'small';
    status.textContent = 'Saved.';
  } catch (err) {
    status.className = 'small error';
    status.textContent = 'Not saved: ' + err.message;
  }
}

/** Reports an input the emulator would refuse (the browser logs every 4xx answer as a console error). */
function invalid(input) {
  if (input.checkValidity()) return false;
  const status = $('settings-status');
  status.className = 'small error';
  status.textContent = 'Not saved: ' + input.validationMessage;
  return true;
}

function wireControls() {
  $('broadcast-enabled').addEventListener('change', (e) => control('config', { broadcastEnabled: e.target.checked }));
  $('rate').addEventListener('change', (e) => {
    if (invalid(e.target)) return;
    const value = e.target.value.trim();
    control('config', { ratePerSecond: value === '' ? null : Number(value) });
  });
  $('rate-model').addEventListener('change', (e) => control('config', { rateModel: e.target.value }));
  $('fault-rate').addEventListener('change', (e) => {
    if (invalid(e.target) || e.target.value.trim() === '') return;
    const f = state.faults || {};
    control('faults', { rate: Number(e.target.value), kinds: f.kinds, seed: f.seed, slowMs: f.slowMs, script: f.script });
  });
  $('reset').addEventListener('click', () => control('reset', {}));
  $('filter').addEventListener('input', applyFilter);
}

function connect() {
  const status = $('status');
  const events = new EventSource(CONTROL + 'events');
  events.addEventListener('open', () => {
    status.textContent = 'live';
    status.className = 'status live';
  });
  events.addEventListener('error', () => {
    status.textContent = 'reconnecting…';
    status.className = 'status';
  });
  events.addEventListener('snapshot', (e) => snapshot(JSON.parse(e.data)));
  events.addEventListener('settings', (e) => {
    const s = JSON.parse(e.data);
    showSettings(s.config, s.faults);
    showStats(s.stats);
  });
  events.addEventListener('call', (e) => {
    const { call, delivery, stats } = JSON.parse(e.data);
    if (delivery) addDelivery(delivery, true);
    activity(call);
    showStats(stats);
    applyFilter();
  });
}

$('endpoint').textContent = location.origin + '/v4/group_open_http_svc/send_broadcast_msg';
wireControls();
connect();
