// PluginHost dashboard: plain JavaScript over the host's API and event stream (docs/dashboard.md).
"use strict";

const state = { units: new Map(), selected: null, token: sessionStorage.getItem("pluginhost-token") || "",
  logLines: [], logPaused: false, logPending: [], logSource: null, events: null, refreshTimer: null, panel: null };
const LOG_KEEP = 5000, EVENTS_KEEP = 200;
const $ = (id) => document.getElementById(id);

function withToken(path) {
  return state.token ? path + (path.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(state.token) : path;
}

async function api(path, options = {}, onResponse = null) {
  const headers = { "Accept": "application/json", ...(options.headers || {}) };
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const response = await fetch(path, { ...options, headers });
  onResponse?.(response);
  if (response.status === 401) { $("token-panel").hidden = false; throw new Error("this host requires a token"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new Error(body.message || body.detail || response.statusText);
    error.problem = body;
    throw error;
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function toast(text, bad = false) {
  const t = $("toast");
  t.textContent = text;
  t.classList.toggle("bad", bad);
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; }, 6000);
}

// ---- units -------------------------------------------------------------------------------

const fmt = {
  uptime(s) {
    if (s == null) return "–";
    s = Math.floor(s);
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
    return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
  },
  cpu: (v) => v == null ? "–" : v.toFixed(1) + "%",
  rss: (v) => v == null ? "–" : (v / 1048576).toFixed(1) + " MB",
  // A kind's own memory gauges (any name ending in _bytes, e.g. a GPU's memory) sit beside RSS.
  memory: (rss, gauges) => fmt.rss(rss) + Object.entries(gauges || {})
    .filter(([name]) => name.endsWith("_bytes"))
    .map(([name, v]) => ` · ${name.slice(0, -"_bytes".length).replaceAll("_", " ")} ${fmt.rss(v)}`).join(""),
  gauges: (gauges) => Object.entries(gauges || {}).map(([name, v]) => `${name} = ${v}`).join("\n"),
  ports: (p) => Object.values(p || {}).join(", ") || "–",
};

function unitRow(name) {
  let row = document.querySelector(`#units tbody tr[data-unit="${CSS.escape(name)}"]`);
  if (row) return row;
  const actions = el("div", { class: "actions" },
    el("button", { type: "button", textContent: "Start", "data-action": "start" }),
    el("button", { type: "button", textContent: "Stop", "data-action": "stop" }),
    el("button", { type: "button", textContent: "Restart", "data-action": "restart" }));
  row = el("tr", { "data-unit": name },
    el("td", { class: "name" }), el("td", {}, el("span", { class: "state" })), el("td", { class: "num pid" }),
    el("td", { class: "num port" }), el("td", { class: "num uptime" }), el("td", { class: "num cpu" }), el("td", { class: "num rss" }),
    el("td", { class: "num restarts" }), el("td", { class: "error" }), el("td", {}, actions));
  actions.addEventListener("click", (e) => {
    const action = e.target.closest("button")?.dataset.action;
    if (action) { e.stopPropagation(); control(name, action); }
  });
  row.addEventListener("click", () => select(name));
  $("units").tBodies[0].append(row);
  return row;
}

function setState(row, unitState, pid) {
  const badge = row.querySelector(".state");
  badge.textContent = unitState;
  badge.dataset.state = unitState;
  row.dataset.state = unitState;
  if (pid !== undefined) row.querySelector(".pid").textContent = pid ?? "–";
  const running = ["ready", "starting", "restarting", "backoff"].includes(unitState);
  row.querySelector('[data-action="start"]').disabled = running;
  row.querySelector('[data-action="stop"]').disabled = !running && unitState !== "stopping";
}

// A snapshot older than an event already applied to the row must not undo it: the row remembers
// the id of the last state event it showed, and a snapshot says which event id it is at least as new as.
function renderUnit(u, snapshotEventId = Infinity) {
  state.units.set(u.name, u);
  const row = unitRow(u.name);
  const name = row.querySelector(".name");
  name.replaceChildren(u.name, el("span", { class: "kind", textContent: u.kind }));
  // Links the unit's plugin offers (a web server's page…); {host} is the name this page was reached at.
  for (const link of u.capabilities?.links || []) {
    name.append(el("a", { class: "open", href: link.url.replaceAll("{host}", location.hostname), target: "_blank", rel: "noopener",
      textContent: link.label + " ↗", title: link.title || "" }));
  }
  name.title = u.reason || "";
  if (!(Number(row.dataset.eventId || 0) > snapshotEventId)) setState(row, u.state, u.pid);
  row.querySelector(".port").textContent = fmt.ports(u.ports);
  row.querySelector(".uptime").textContent = fmt.uptime(u.uptimeSeconds);
  row.querySelector(".cpu").textContent = fmt.cpu(u.cpuPercent);
  const memory = row.querySelector(".rss");
  memory.textContent = fmt.memory(u.rssBytes, u.gauges);
  memory.title = fmt.gauges(u.gauges);
  row.querySelector(".restarts").textContent = u.restarts;
  const error = row.querySelector(".error");
  if (u.lastError) {
    error.replaceChildren(el("span", { class: "code", textContent: u.lastError.code }), u.lastError.message + " ",
      el("span", { class: "remedy", textContent: "→ " + u.lastError.remedy }));
    error.title = `${u.lastError.code}: ${u.lastError.message}\nWhat to do: ${u.lastError.remedy}`;
  } else {
    error.replaceChildren();
    error.title = "";
  }
}

async function refreshUnits() {
  let snapshot = Infinity;
  const units = await api("/api/units", {}, (r) => { snapshot = Number(r.headers.get("X-PluginHost-Event-Id") ?? Infinity); });
  const names = new Set(units.map((u) => u.name));
  for (const row of [...$("units").tBodies[0].rows]) if (!names.has(row.dataset.unit)) row.remove();
  units.forEach((u) => renderUnit(u, snapshot));
  // A reloaded plugin has a new panel (its URL names the generation): mount it again.
  if (state.selected && state.units.get(state.selected)) {
    mountPanel(state.units.get(state.selected));
    try { state.panel?.handle?.update?.(state.units.get(state.selected)); } catch { /* the panel's own trouble */ }
  }
  $("unit-count").textContent = `${units.filter((u) => u.state === "ready").length} of ${units.length} ready`;
  if (!state.selected && units.length) select(units[0].name);
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => refreshUnits().catch(() => {}), 120);
}

async function control(name, action) {
  try {
    const answer = await api(`/api/units/${encodeURIComponent(name)}/${action}`, { method: "POST" });
    toast(answer.message);
    scheduleRefresh(); // the state itself arrives as events; the answer's snapshot may already be older
  } catch (e) {
    toast(`${action} ${name}: ${e.message}${e.problem?.remedy ? " — " + e.problem.remedy : ""}`, true);
  }
}

// ---- logs --------------------------------------------------------------------------------

function select(name) {
  state.selected = name;
  for (const row of $("units").tBodies[0].rows) row.classList.toggle("selected", row.dataset.unit === name);
  $("log-unit").textContent = "— " + name;
  delete $("log").dataset.following;
  state.logLines = [];
  state.logPending = [];
  renderLog();
  state.logSource?.close();
  const source = new EventSource(withToken(`/api/units/${encodeURIComponent(name)}/logs?follow=true&tail=200`));
  // The server says when the backlog is complete: from then on every line is live.
  source.addEventListener("following", () => {
    if (state.logSource !== source) return;
    $("log-unit").textContent = `— ${name} · live`;
    $("log").dataset.following = "true";
  });
  source.onmessage = (m) => {
    const line = JSON.parse(m.data);
    if (state.logPaused) { state.logPending.push(line); return; }
    appendLine(line);
  };
  state.logSource = source;
  loadOps(name);
  openTerminal(name);
  mountPanel(state.units.get(name));
}

// ---- panels: a plugin's own view of its units (docs/dashboard.md, "Panels") ------------------

// What a panel module gets: the unit, the host's API (with the token), and a few helpers. Kept small
// and documented: panels of plugins built against it must go on working.
function panelApi(container, name) {
  return {
    unit: () => state.units.get(name),
    api: (path, options) => api(path, options),
    invoke: (op, args = {}) => api(`/api/units/${encodeURIComponent(name)}/ops/${encodeURIComponent(op)}`,
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(args) }),
    url: (path) => withToken(path),
    webSocketUrl: (path) => { const u = new URL(withToken(path), location.href); u.protocol = location.protocol === "https:" ? "wss:" : "ws:"; return u.href; },
    el, toast, container,
  };
}

async function mountPanel(unit) {
  const box = $("panel");
  const url = unit?.plugin?.panel || null;
  if (state.panel?.unit === unit?.name && state.panel?.url === url) return;
  try { state.panel?.handle?.unmount?.(); } catch { /* a panel's own trouble */ }
  state.panel = null;
  box.replaceChildren();
  box.hidden = !url;
  if (!url) return;
  const mounted = { unit: unit.name, url, handle: null };
  state.panel = mounted;
  box.dataset.plugin = unit.plugin.name;
  try {
    const module = await import(url);
    if (state.panel !== mounted) return; // another unit was selected meanwhile
    const container = el("div", { class: "panel-body" });
    box.replaceChildren(el("h3", { textContent: `${unit.plugin.name} ${unit.plugin.version}` }), container);
    mounted.handle = (await module.mount(container, panelApi(container, unit.name))) || null;
  } catch (e) {
    box.replaceChildren(el("p", { class: "bad", textContent: `the ${unit.plugin.name} panel failed: ${e.message}` }));
  }
}

function panelEvent(e) {
  if (state.panel?.unit === e.unit) { try { state.panel.handle?.event?.(e); } catch { /* the panel's own trouble */ } }
}

// ---- terminal (units on a pseudo-terminal the host owns) -----------------------------------

const TERM_KEEP = 200_000;
// Colours, cursor moves and titles are dropped: this is a live view, not a terminal emulator.
const ANSI = /\x1b\[[0-?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>]|\r/g;

function openTerminal(name, started = false) {
  state.term?.close();
  state.term = null;
  const box = $("terminal");
  const unit = state.units.get(name);
  box.hidden = !unit?.capabilities?.terminal;
  if (box.hidden) return;
  $("term-out").textContent = "";
  if (!started && unit.state !== "ready") { $("term-state").textContent = "— " + unit.state; return; }
  const url = new URL(withToken(`/api/units/${encodeURIComponent(name)}/pty`), location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  socket.onopen = () => { $("term-state").textContent = "— connected"; };
  socket.onmessage = (m) => {
    const out = $("term-out");
    out.textContent = (out.textContent + decoder.decode(m.data, { stream: true }).replace(ANSI, "")).slice(-TERM_KEEP);
    out.scrollTop = out.scrollHeight;
  };
  socket.onclose = (e) => {
    if (state.term !== socket) return;
    $("term-state").textContent = "— " + (e.reason || "closed");
    state.term = null;
  };
  state.term = socket;
}

function sendToTerminal(text) {
  if (state.term?.readyState === WebSocket.OPEN) state.term.send(new TextEncoder().encode(text));
}

function lineMatches(line) {
  const filter = $("log-filter").value.trim().toLowerCase();
  return !filter || line.text.toLowerCase().includes(filter);
}

function lineNode(line) {
  return el("div", { class: line.stream }, el("span", { class: "ts", textContent: line.timestamp.slice(11, 23) }), line.text);
}

function appendLine(line) {
  state.logLines.push(line);
  const log = $("log");
  if (state.logLines.length > LOG_KEEP) { state.logLines.shift(); log.firstChild?.remove(); }
  if (lineMatches(line)) log.append(lineNode(line));
  if ($("log-follow").checked) log.scrollTop = log.scrollHeight;
}

function renderLog() {
  const log = $("log");
  log.replaceChildren(...state.logLines.filter(lineMatches).map(lineNode));
  if ($("log-follow").checked) log.scrollTop = log.scrollHeight;
}

async function loadOps(name) {
  const box = $("ops");
  box.replaceChildren();
  let ops = [];
  try { ops = await api(`/api/units/${encodeURIComponent(name)}/ops`); } catch { return; }
  for (const op of ops) {
    const inputs = op.parameters.map((p) => el("input", { name: p.name, placeholder: p.name + (p.required ? "*" : ""), title: `${p.type}: ${p.description}` }));
    const form = el("form", { title: op.description }, ...inputs, el("button", { type: "submit", textContent: op.name }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const args = {};
      op.parameters.forEach((p, i) => {
        const v = inputs[i].value;
        if (v === "") return;
        args[p.name] = ["integer", "number"].includes(p.type) ? Number(v) : p.type === "boolean" ? v === "true" : ["object", "array"].includes(p.type) ? JSON.parse(v) : v;
      });
      try {
        const answer = await api(`/api/units/${encodeURIComponent(name)}/ops/${encodeURIComponent(op.name)}`,
          { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(args) });
        toast(`${op.name}: ${answer.message}`);
      } catch (err) {
        toast(`${op.name}: ${err.message}${err.problem?.remedy ? " — " + err.problem.remedy : ""}`, true);
      }
    });
    box.append(form);
  }
}

// ---- alerts, events and plugins -----------------------------------------------------------

const ALERTS_KEEP = 100;

// Alerts come from /api/alerts, the events' history and the stream, which overlap: each is shown once.
const alertsShown = new Set();

function addAlert(a) {
  const key = `${a.code}|${a.unit ?? ""}|${Date.parse(a.at)}`;
  if (alertsShown.has(key)) return;
  alertsShown.add(key);
  const list = $("alerts");
  list.prepend(el("li", { "data-code": a.code },
    el("span", { class: "time", textContent: (a.at || a.timestamp || new Date().toISOString()).slice(0, 19).replace("T", " ") }),
    el("span", { class: "acode", textContent: a.code }),
    el("span", { textContent: (a.unit ? a.unit + ": " : "") + a.message }),
    el("span", { class: "remedy", textContent: a.remedy })));
  while (list.children.length > ALERTS_KEEP) list.lastChild.remove();
  $("alerts-card").hidden = false;
  $("alert-count").textContent = `(${list.children.length})`;
}

async function loadAlerts() {
  for (const a of await api("/api/alerts")) addAlert(a);
}

function addEvent(kind, unit, text, timestamp, cls) {
  const list = $("events");
  list.prepend(el("li", { class: cls || "" },
    el("span", { class: "time", textContent: (timestamp || new Date().toISOString()).slice(11, 23) }),
    el("span", { class: "ekind", textContent: kind + (unit ? " · " + unit : "") }),
    el("span", { textContent: text })));
  while (list.children.length > EVENTS_KEEP) list.lastChild.remove();
}

// The host and each plugin word their own events (the event's summary); the payload is the fallback.
const describe = (e) => e.summary ?? JSON.stringify(e.payload || {});

async function connectEvents() {
  // The feed starts with recent history, then resumes the stream right after it: nothing twice, nothing missed.
  let since = 0;
  try {
    for (const e of await api("/api/events/recent?limit=50")) {
      addEvent(e.kind, e.unit, describe(e), e.timestamp);
      // One raised after /api/alerts was read and before the stream resumes is only here.
      if (e.kind === "alert") addAlert({ ...e.payload, unit: e.unit, at: e.payload.at ?? e.timestamp });
      since = e.id;
    }
  } catch { /* shown by the connection badge */ }
  const source = new EventSource(withToken(`/api/events?since=${since}`));
  const connection = $("connection");
  source.onopen = () => { connection.dataset.state = "live"; connection.textContent = "live"; scheduleRefresh(); };
  source.onerror = () => { connection.dataset.state = "reconnecting"; connection.textContent = "reconnecting…"; };
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    addEvent(e.kind, e.unit, describe(e), e.timestamp);
    panelEvent(e);
    if (e.kind === "alert") addAlert({ ...e.payload, unit: e.unit, at: e.payload.at ?? e.timestamp });
    if (e.kind === "unit_state" && e.unit) {
      const row = document.querySelector(`#units tbody tr[data-unit="${CSS.escape(e.unit)}"]`);
      if (row) { row.dataset.eventId = e.id; setState(row, e.payload.to, e.payload.pid); }
      // A unit with a terminal that is ready again runs on a new one: follow it.
      if (e.payload.to === "ready" && e.unit === state.selected && state.units.get(e.unit)?.capabilities?.terminal) openTerminal(e.unit, true);
      scheduleRefresh();
    } else if (e.kind.startsWith("plugin_")) {
      refreshPlugins().catch(() => {});
    } else if (e.unit) {
      scheduleRefresh();
    }
  };
  source.addEventListener("gap", (m) => {
    const gap = JSON.parse(m.data);
    addEvent("gap", null, `${gap.missed} events missed (${gap.reason}); refreshing`, null, "gap");
    scheduleRefresh();
  });
  state.events = source;
}

async function refreshPlugins() {
  const plugins = await api("/api/plugins");
  const body = $("plugins").tBodies[0];
  body.replaceChildren(...plugins.map((p) => {
    const reload = el("button", { type: "button", textContent: "Reload" });
    reload.addEventListener("click", async () => {
      reload.disabled = true;
      try { toast((await api(`/api/plugins/${encodeURIComponent(p.name)}/reload`, { method: "POST" })).message); }
      catch (e) { toast(`reload ${p.name}: ${e.message}`, true); }
      finally { reload.disabled = false; refreshPlugins().catch(() => {}); }
    });
    return el("tr", { "data-plugin": p.name }, el("td", { textContent: p.name }), el("td", { class: "num", textContent: p.version || "–" }),
      el("td", { textContent: p.kinds.join(", ") }), el("td", { textContent: p.state + (p.error ? ": " + p.error : "") }), el("td", {}, reload));
  }));
}

// ---- start -------------------------------------------------------------------------------

async function start() {
  $("term-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sendToTerminal($("term-input").value + "\r");
    $("term-input").value = "";
  });
  $("term-ctrlc").addEventListener("click", () => sendToTerminal("\x03"));
  $("log-filter").addEventListener("input", renderLog);
  $("log-clear").addEventListener("click", () => { state.logLines = []; state.logPending = []; renderLog(); });
  $("log-pause").addEventListener("click", () => {
    state.logPaused = !state.logPaused;
    $("log-pause").textContent = state.logPaused ? "Resume" : "Pause";
    if (!state.logPaused) { state.logPending.splice(0).forEach(appendLine); }
  });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token-input").value.trim();
    sessionStorage.setItem("pluginhost-token", state.token);
    location.reload();
  });
  try {
    const health = await api("/api/health");
    $("host-version").textContent = "v" + health.version;
    await Promise.all([refreshUnits(), refreshPlugins(), loadAlerts()]);
  } catch (e) {
    toast(e.message, true);
    if ($("token-panel").hidden === false) return;
  }
  await connectEvents();
  setInterval(() => refreshUnits().catch(() => {}), 2000);
}

start();
