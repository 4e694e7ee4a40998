// station-batch's dashboard panel: the batch's state and progress, a start with parameters and a
// stop, the current execution's steps as they complete (outcome, measurement against its limits),
// the station's stored results with filters, and the sync queue with the backend's reachability —
// from the plugin's events, its operations and its station API (/plugins/station-batch/api).
// Loaded by the host's dashboard (docs/dashboard.md, "Panels"; docs/station.md).
const API = "/plugins/station-batch/api";

export function mount(container, host) {
  const facts = host.el("dl", { class: "facts" });
  const params = host.el("textarea", { rows: 2, cols: 40, value: "{}", title: "parameters (JSON)", "data-field": "params" });
  const start = host.el("button", { type: "button", textContent: "Start sequence", "data-op": "startSequence" });
  const stop = host.el("button", { type: "button", textContent: "Stop", "data-op": "stopSequence" });
  const verdict = host.el("p", { class: "verdict", "data-field": "verdict" });
  const steps = host.el("tbody");
  const table = host.el("table", { class: "steps" },
    host.el("thead", {}, host.el("tr", {}, ...["step", "outcome", "measured", "limits"].map((h) => host.el("th", { textContent: h })))), steps);
  let execution = null;
  const progress = host.el("progress", { max: 1, value: 0, "data-field": "progress" });
  const current = host.el("p", { class: "current", "data-field": "current" });
  const sync = host.el("p", { class: "sync", "data-field": "sync" });
  const serial = host.el("input", { type: "text", placeholder: "DUT serial", "data-field": "filter-serial", size: 12 });
  const status = host.el("select", { "data-field": "filter-status" }, ...["", "PASS", "FAIL", "ERROR", "running", "aborted"].map((v) => host.el("option", { value: v, textContent: v || "any result" })));
  const load = host.el("button", { type: "button", textContent: "Show results", "data-op": "results" });
  const results = host.el("tbody");
  const resultsTable = host.el("table", { class: "results" },
    host.el("thead", {}, host.el("tr", {}, ...["started", "serial", "sequence", "status", "verdict"].map((h) => host.el("th", { textContent: h })))), results);

  start.addEventListener("click", async () => {
    let values;
    try { values = JSON.parse(params.value || "{}"); } catch (e) { host.toast(`parameters: ${e.message}`, true); return; }
    start.disabled = true;
    try {
      const answer = await host.invoke("startSequence", { params: values });
      follow(answer.data.execution);
      host.toast(answer.message);
    } catch (e) { host.toast(`startSequence: ${e.message}${e.problem?.remedy ? " — " + e.problem.remedy : ""}`, true); }
    finally { start.disabled = false; refresh(); }
  });
  stop.addEventListener("click", async () => {
    stop.disabled = true;
    try { host.toast((await host.invoke("stopSequence")).message); }
    catch (e) { host.toast(`stopSequence: ${e.message}`, true); }
    finally { stop.disabled = false; refresh(); }
  });
  load.addEventListener("click", showResults);
  container.append(facts, progress, host.el("div", { class: "controls" }, params, start, stop), verdict, current, table,
    host.el("h4", { textContent: "Results" }), host.el("div", { class: "controls" }, serial, status, load), resultsTable, sync);

  async function showResults() {
    const id = host.unit().name;
    const query = new URLSearchParams({ limit: "20" });
    if (batchId) query.set("batch", batchId); else query.set("batch", id);
    if (serial.value) query.set("serial", serial.value);
    if (status.value) query.set("status", status.value);
    try {
      const page = await host.api(`${API}/results?${query}`);
      results.replaceChildren(...page.items.map((r) => host.el("tr", { "data-result": r.id, "data-verdict": r.verdict ?? "" },
        ...[r.started_at?.replace("T", " ").slice(0, 19), r.dut_serial ?? "–", `${r.sequence_name ?? "?"} ${r.sequence_version ?? ""}`, r.status, r.verdict ?? "–"]
          .map((t) => host.el("td", { textContent: t })))));
      if (page.items.length === 0) results.replaceChildren(host.el("tr", {}, host.el("td", { textContent: "no results", colSpan: 5 })));
    } catch (e) { host.toast(`results: ${e.message}`, true); }
  }

  async function showSync() {
    try {
      const health = await host.api(`${API}/system/health`);
      const q = health.sync;
      sync.textContent = !q?.target ? `Sync: no station-sync unit — results stay on this station${q ? ` (${q.queueDepth} waiting)` : ""}`
        : `Backend: ${health.backend_connected ? "connected" : "unreachable"} · queue ${q.queueDepth}${q.queueDepth ? ` (oldest ${Math.round(q.oldestAgeSeconds)} s)` : ""}${q.lastError ? ` · last error: ${q.lastError}` : ""}`;
      sync.dataset.connected = String(health.backend_connected);
    } catch (e) { sync.textContent = `Sync: ${e.message}`; }
  }
  let batchId = null;

  function follow(id) {
    if (execution === id) return;
    execution = id;
    steps.replaceChildren();
    verdict.textContent = `execution ${id}: running`;
  }

  function show(d) {
    progress.value = d.progress ?? (d.state === "running" ? 0 : progress.value);
    const rows = [["state", d.state], ["execution", d.execution ?? "–"], ["step", d.step ?? "–"], ["last verdict", d.lastVerdict ?? "–"]];
    facts.replaceChildren(...rows.flatMap(([k, v]) => [host.el("dt", { textContent: k }), host.el("dd", { textContent: String(v), "data-field": k })]));
    if (d.execution) follow(d.execution);
  }

  // Answers can arrive out of order (the start button's status can come back after the completion's):
  // only the latest asked is shown, or a finished run's progress would go back to a mid-run value.
  let asked = 0;
  async function refresh() {
    const ticket = ++asked;
    try {
      const answer = await host.invoke("status");
      if (ticket === asked) show(answer.data);
    } catch (e) { if (ticket === asked) facts.replaceChildren(host.el("dd", { textContent: e.message })); }
  }

  function stepRow(p) {
    const m = p.measurement;
    const measured = m ? `${m.name} = ${m.value}${m.units ? " " + m.units : ""}${m.marginal ? " (marginal)" : ""}` : (p.error ? `${p.error.code}: ${p.error.message}` : "");
    // An instrument's error says what to do about it, as the CLI and the API do.
    const cell = host.el("td", { textContent: measured }, ...(p.error?.remedy ? [host.el("div", { class: "remedy", textContent: p.error.remedy })] : []));
    return host.el("tr", { "data-step": p.step, "data-outcome": p.outcome },
      host.el("td", { textContent: p.step }), host.el("td", { textContent: p.outcome, class: p.outcome.toLowerCase() }),
      cell, host.el("td", { textContent: m?.limits ?? "" }));
  }

  refresh();
  showSync();
  host.api(`${API}/batches`).then((list) => { batchId = list.find((b) => b.unit === host.unit().name)?.id ?? null; showResults(); }).catch(() => showResults());
  return {
    update() { showSync(); },
    event(e) {
      if (!e.kind.startsWith("station_")) return;
      const p = e.payload;
      if (p.execution) follow(p.execution);
      if (e.kind === "station_step_complete") {
        steps.append(stepRow(p));
        const m = p.measurement;
        if (m) current.textContent = `${p.step}: ${m.name} = ${m.value}${m.units ? " " + m.units : ""} against ${m.limits}${m.marginal ? " (marginal)" : ""} — ${p.outcome}`;
      }
      else if (e.kind === "station_sequence_complete") { verdict.textContent = `execution ${p.execution}: ${p.verdict}${p.stopped ? " (stopped)" : ""}`; progress.value = 1; refresh(); showResults(); showSync(); }
      else if (e.kind === "station_sequence_error" || e.kind === "station_sequence_aborted") { verdict.textContent = `execution ${p.execution}: ${e.summary ?? e.kind}${p.remedy ? " — " + p.remedy : ""}`; refresh(); }
    },
  };
}
