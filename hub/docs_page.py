"""`GET /docs`: one self-contained HTML page that fetches /openapi.json and renders it.

No CDN and no network beyond this hub: operators run the hub in closed networks. Everything
is built with DOM calls and `textContent`, so nothing in the document can inject markup.
"""

from __future__ import annotations

DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>UniLLM Hub API</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { background: #1d232a; color: #fff; padding: 16px 24px; }
header h1 { margin: 0; font-size: 20px; }
main { max-width: 1000px; margin: 0 auto; padding: 16px 24px 48px; }
#filter { width: 100%; padding: 8px; font-size: 15px; margin: 8px 0 16px; box-sizing: border-box; }
h2 { margin: 28px 0 8px; font-size: 17px; text-transform: capitalize; }
details.op { background: #fff; border: 1px solid #d8dde3; border-radius: 6px; margin: 6px 0; }
details.op > summary { cursor: pointer; padding: 8px 12px; list-style: none; }
.method { display: inline-block; min-width: 64px; font-weight: 700; font-family: monospace; }
.get { color: #0b6bcb; } .post { color: #1a7f37; } .put, .patch { color: #9a6700; }
.delete { color: #cf222e; }
.path { font-family: monospace; } .sum { color: #57606a; margin-left: 8px; }
.body { padding: 4px 16px 12px; border-top: 1px solid #eef0f2; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eef0f2;
  vertical-align: top; }
code, .schema { font-family: ui-monospace, monospace; font-size: 13px; }
.schema ul { margin: 0; padding-left: 18px; } .req { color: #cf222e; }
.muted { color: #57606a; }
</style>
</head>
<body>
<header><h1 id="title">UniLLM Hub API</h1><div id="version" class="muted"></div></header>
<main>
<p id="intro" class="muted">Loading <a href="/openapi.json">/openapi.json</a>...</p>
<input id="filter" placeholder="Filter by path, method or summary" aria-label="Filter">
<div id="ops"></div>
</main>
<script>
"use strict";
let spec = null;
function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}
function resolve(schema) {
  let seen = 0;
  while (schema && schema.$ref && seen < 20) {
    const parts = schema.$ref.replace(/^#\\//, "").split("/");
    schema = parts.reduce((node, key) => (node ? node[key] : undefined), spec);
    seen += 1;
  }
  return schema || {};
}
function typeName(schema) {
  const s = resolve(schema);
  if (s.enum) return "enum: " + s.enum.map(v => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return "const " + JSON.stringify(s.const);
  if (s.anyOf || s.oneOf) return (s.anyOf || s.oneOf).map(typeName).join(" | ");
  let t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type || "any");
  if (t.indexOf("array") >= 0 && s.items) t += " of " + typeName(s.items);
  if (s.format) t += " (" + s.format + ")";
  return t;
}
function renderSchema(schema, depth) {
  const s = resolve(schema);
  const box = el("div", "schema");
  const head = el("div", null, typeName(s));
  if (s.description) head.appendChild(el("span", "muted", " - " + s.description));
  box.appendChild(head);
  if (depth > 6) return box;
  const props = s.properties || (s.items && resolve(s.items).properties);
  const required = s.required || (s.items && resolve(s.items).required) || [];
  if (props) {
    const list = el("ul");
    for (const [name, sub] of Object.entries(props)) {
      const item = el("li");
      item.appendChild(el("code", null, name));
      if (required.indexOf(name) >= 0) item.appendChild(el("span", "req", " *"));
      item.appendChild(document.createTextNode(": "));
      item.appendChild(renderSchema(sub, depth + 1));
      list.appendChild(item);
    }
    box.appendChild(list);
  }
  for (const alt of (s.anyOf || s.oneOf || [])) {
    if (resolve(alt).properties) box.appendChild(renderSchema(alt, depth + 1));
  }
  return box;
}
function renderOperation(path, method, op, shared) {
  const box = el("details", "op");
  box.dataset.search = (method + " " + path + " " + (op.summary || "")).toLowerCase();
  const head = el("summary");
  head.appendChild(el("span", "method " + method, method.toUpperCase()));
  head.appendChild(el("span", "path", path));
  head.appendChild(el("span", "sum", op.summary || ""));
  box.appendChild(head);
  const body = el("div", "body");
  if (op.description) body.appendChild(el("p", null, op.description));
  const security = op.security || spec.security || [];
  if (security.length) {
    const names = security.map(req => Object.keys(req).join(" + ") || "none").join(" or ");
    body.appendChild(el("p", "muted", "Authentication: " + names));
  }
  const params = (shared || []).concat(op.parameters || []).map(resolve);
  if (params.length) {
    body.appendChild(el("h4", null, "Parameters"));
    const table = el("table");
    for (const p of params) {
      const row = el("tr");
      row.appendChild(el("td", null, p.name + (p.required ? " *" : "")));
      row.appendChild(el("td", "muted", p.in));
      const cell = el("td");
      cell.appendChild(renderSchema(p.schema || {}, 0));
      if (p.description) cell.appendChild(el("div", "muted", p.description));
      row.appendChild(cell);
      table.appendChild(row);
    }
    body.appendChild(table);
  }
  const reqBody = op.requestBody ? resolve(op.requestBody) : null;
  if (reqBody && reqBody.content) {
    body.appendChild(el("h4", null, "Request body"));
    for (const [type, media] of Object.entries(reqBody.content)) {
      body.appendChild(el("div", "muted", type));
      body.appendChild(renderSchema(media.schema || {}, 0));
    }
  }
  body.appendChild(el("h4", null, "Responses"));
  const table = el("table");
  for (const [code, raw] of Object.entries(op.responses || {})) {
    const response = resolve(raw);
    const row = el("tr");
    row.appendChild(el("td", null, code));
    const cell = el("td");
    cell.appendChild(el("div", null, response.description || ""));
    for (const media of Object.values(response.content || {})) {
      if (media.schema) cell.appendChild(renderSchema(media.schema, 0));
    }
    row.appendChild(cell);
    table.appendChild(row);
  }
  body.appendChild(table);
  box.appendChild(body);
  return box;
}
function render() {
  document.getElementById("title").textContent = spec.info.title;
  document.getElementById("version").textContent =
    "OpenAPI " + spec.openapi + " - version " + spec.info.version;
  document.getElementById("intro").textContent = spec.info.description || "";
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(renderOperation(path, method, item[method], item.parameters));
    }
  }
  const root = document.getElementById("ops");
  for (const [tag, ops] of byTag) {
    const section = el("section");
    section.appendChild(el("h2", null, tag));
    ops.forEach(op => section.appendChild(op));
    root.appendChild(section);
  }
}
document.getElementById("filter").addEventListener("input", event => {
  const needle = event.target.value.toLowerCase();
  for (const op of document.querySelectorAll("details.op")) {
    op.style.display = op.dataset.search.indexOf(needle) >= 0 ? "" : "none";
  }
});
fetch("/openapi.json")
  .then(response => response.json())
  .then(doc => { spec = doc; render(); })
  .catch(error => {
    document.getElementById("intro").textContent = "Could not load /openapi.json: " + error;
  });
</script>
</body>
</html>
"""
