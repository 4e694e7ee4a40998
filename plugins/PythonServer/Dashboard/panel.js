// python-server's dashboard panel: the seed's server card — status, port, uptime, last error — and
// its controls, through the plugin's own operations. Loaded by the host's dashboard (docs/dashboard.md).
export function mount(container, host) {
  const facts = host.el("dl", { class: "facts" });
  const controls = host.el("div", { class: "controls" }, ...["start", "stop", "restart"].map((op) => {
    const button = host.el("button", { type: "button", textContent: op, "data-op": op });
    button.addEventListener("click", () => run(op, button));
    return button;
  }));
  container.append(facts, controls);

  function show(d) {
    const rows = [["status", d.status], ["port", d.port ?? "–"], ["pid", d.pid ?? "–"],
      ["uptime", d.uptime != null ? `${Math.round(d.uptime)} s` : "–"], ["last error", d.lastError || "none"]];
    facts.replaceChildren(...rows.flatMap(([k, v]) => [host.el("dt", { textContent: k }), host.el("dd", { textContent: String(v), "data-field": k })]));
  }

  async function refresh() {
    try { show((await host.invoke("status")).data); } catch (e) { facts.replaceChildren(host.el("dd", { textContent: e.message })); }
  }

  async function run(op, button) {
    button.disabled = true;
    try { host.toast((await host.invoke(op, { wait: true })).message); }
    catch (e) { host.toast(`${op}: ${e.message}${e.problem?.remedy ? " — " + e.problem.remedy : ""}`, true); }
    finally { button.disabled = false; refresh(); }
  }

  refresh();
  return {
    event(e) { if (e.kind.startsWith("python-server-")) refresh(); },
  };
}
