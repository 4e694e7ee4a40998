// shimmy's dashboard panel: what the sidecar runs on (accelerator, model, port, GPU memory), a button
// that asks for it (ensureReady, sharing one start with every other caller), and the model download's
// progress from the plugin's events. Loaded by the host's dashboard (docs/dashboard.md).
export function mount(container, host) {
  const facts = host.el("dl", { class: "facts" });
  const progress = host.el("progress", { max: 100, value: 0, hidden: true, className: "download" });
  const ensure = host.el("button", { type: "button", textContent: "Ensure ready", "data-op": "ensureReady" });
  ensure.addEventListener("click", async () => {
    ensure.disabled = true;
    try { host.toast((await host.invoke("ensureReady")).message); }
    catch (e) { host.toast(`ensureReady: ${e.message}${e.problem?.remedy ? " — " + e.problem.remedy : ""}`, true); }
    finally { ensure.disabled = false; refresh(); }
  });
  container.append(facts, progress, host.el("div", { class: "controls" }, ensure));

  function show(d) {
    const rows = [["state", d.state], ["port", d.port ?? "–"], ["accelerator", d.accel ?? "–"], ["model", d.model ?? "–"],
      ["GPU memory", d.gpuMemoryMb != null ? `${d.gpuMemoryMb} MB` : "–"]];
    facts.replaceChildren(...rows.flatMap(([k, v]) => [host.el("dt", { textContent: k }), host.el("dd", { textContent: String(v), "data-field": k })]));
  }

  async function refresh() {
    try { show((await host.invoke("status")).data); } catch (e) { facts.replaceChildren(host.el("dd", { textContent: e.message })); }
  }

  refresh();
  return {
    event(e) {
      if (e.kind === "shimmy_download_progress" && e.payload.percent != null) { progress.hidden = false; progress.value = e.payload.percent; }
      else if (e.kind === "shimmy_download_done" || e.kind === "shimmy_download_failed") { progress.hidden = true; }
      if (e.kind === "shimmy_ready" || e.kind === "shimmy_failed" || e.kind === "shimmy_state") refresh();
    },
  };
}
