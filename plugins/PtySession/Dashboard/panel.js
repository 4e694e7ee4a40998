// pty-session's dashboard panel: signals for the session's process group and the terminal's size,
// through the plugin's operations. (The terminal itself is the host's: any unit on a pseudo-terminal
// has one on the dashboard.) Loaded by the host's dashboard (docs/dashboard.md).
export function mount(container, host) {
  const signals = host.el("div", { class: "controls" }, host.el("span", { textContent: "signal:" }), ...["INT", "TERM", "HUP", "KILL"].map((name) => {
    const button = host.el("button", { type: "button", textContent: name, "data-signal": name, title: `send SIG${name} to the session's process group` });
    button.addEventListener("click", () => run("signal", { signal: name }));
    return button;
  }));
  const cols = host.el("input", { type: "number", min: 2, max: 1000, value: 80, "aria-label": "columns" });
  const rows = host.el("input", { type: "number", min: 2, max: 1000, value: 24, "aria-label": "rows" });
  const resize = host.el("form", { class: "controls" }, host.el("span", { textContent: "size:" }), cols, "×", rows,
    host.el("button", { type: "submit", textContent: "Resize" }));
  resize.addEventListener("submit", (e) => { e.preventDefault(); run("resize", { cols: Number(cols.value), rows: Number(rows.value) }); });
  container.append(signals, resize);

  async function run(op, args) {
    try { host.toast((await host.invoke(op, args)).message); }
    catch (e) { host.toast(`${op}: ${e.message}${e.problem?.remedy ? " — " + e.problem.remedy : ""}`, true); }
  }

  return {};
}
