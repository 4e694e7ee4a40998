// The demo plugin's panel, edition 2: the same, worded differently, so a reload shows.
export async function mount(container, host) {
  const hello = await host.api("/plugins/panel-demo/api/hello?name=" + encodeURIComponent(host.unit().name));
  container.append(host.el("p", { className: "demo-panel", textContent: `panel v2 for ${hello.name}, routes ${hello.edition}` }));
  return {};
}
