// The demo plugin's panel, edition 1: says which edition it is and what its own route answers.
export async function mount(container, host) {
  const hello = await host.api("/plugins/panel-demo/api/hello?name=" + encodeURIComponent(host.unit().name));
  container.append(host.el("p", { className: "demo-panel", textContent: `panel v1 for ${hello.name}, routes ${hello.edition}` }));
  const seen = host.el("p", { className: "demo-events", textContent: "" });
  container.append(seen);
  return { event(e) { seen.textContent = e.kind; } };
}
