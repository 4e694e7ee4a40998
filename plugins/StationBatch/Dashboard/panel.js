// station-batch's dashboard panel: the batch's state, a start with parameters and a stop, and the
// current execution's steps as they complete (outcome, measurement, limits), from the plugin's
// events. Loaded by the host's dashboard (docs/dashboard.md, "Panels"; docs/station.md).
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
  container.append(facts, host.el("div", { class: "controls" }, params, start, stop), verdict, table);

  function follow(id) {
    if (execution === id) return;
    execution = id;
    steps.replaceChildren();
    verdict.textContent = `execution ${id}: running`;
  }

  function show(d) {
    const rows = [["state", d.state], ["execution", d.execution ?? "–"], ["step", d.step ?? "–"], ["last verdict", d.lastVerdict ?? "–"]];
    facts.replaceChildren(...rows.flatMap(([k, v]) => [host.el("dt", { textContent: k }), host.el("dd", { textContent: String(v), "data-field": k })]));
    if (d.execution) follow(d.execution);
  }

  async function refresh() {
    try { show((await host.invoke("status")).data); } catch (e) { facts.replaceChildren(host.el("dd", { textContent: e.message })); }
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
  return {
    event(e) {
      if (!e.kind.startsWith("station_")) return;
      const p = e.payload;
      if (p.execution) follow(p.execution);
      if (e.kind === "station_step_complete") steps.append(stepRow(p));
      else if (e.kind === "station_sequence_complete") { verdict.textContent = `execution ${p.execution}: ${p.verdict}${p.stopped ? " (stopped)" : ""}`; refresh(); }
      else if (e.kind === "station_sequence_error" || e.kind === "station_sequence_aborted") { verdict.textContent = `execution ${p.execution}: ${e.summary ?? e.kind}${p.remedy ? " — " + p.remedy : ""}`; refresh(); }
    },
  };
}
