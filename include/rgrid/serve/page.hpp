#pragma once
// The single page serve::App returns at GET /: a textarea, a button, and the prediction (label,
// one probability bar per label, windows used; for a text cut into several windows, a table of
// the windows — each one's span, an excerpt, and its own label and probability — so a person
// sees which part drove the answer). Self-contained: inline CSS and JS, no external
// assets, fonts or CDNs, so it works on an offline machine. The script reads GET /info for the
// label order and window settings and calls POST /predict {"text": ..., "explain": true}.
#include <string_view>

namespace rgrid::serve {

/// The HTML of the classification page (UTF-8, no external resources).
/// Example: `res.set_content(std::string(page_html()), "text/html; charset=utf-8");`
inline std::string_view page_html() {
    return R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rgrid · text classifier</title>
<style>
  :root { --bg:#f5f6f8; --card:#fff; --ink:#1d2330; --muted:#667085; --line:#e3e6eb;
          --accent:#2f6fde; --accent-ink:#fff; --best:#2f9e6b; --bar:#c9d3e3; --err:#c0392b; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--ink);
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  main { max-width: 760px; margin: 40px auto; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; letter-spacing: -0.01em; }
  .sub { color: var(--muted); margin: 0 0 20px; font-size: 14px; }
  .card { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:20px;
          box-shadow: 0 1px 2px rgba(16,24,40,.04); margin-bottom: 16px; }
  label.t { display:block; font-weight:600; margin-bottom:8px; }
  textarea { width:100%; min-height:170px; resize:vertical; padding:12px; border:1px solid var(--line);
             border-radius:8px; font: 14px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
             color:var(--ink); background:#fbfcfd; }
  textarea:focus { outline: 2px solid var(--accent); outline-offset: 1px; border-color: transparent; }
  .row { display:flex; align-items:center; gap:12px; margin-top:12px; flex-wrap: wrap; }
  button { background:var(--accent); color:var(--accent-ink); border:0; border-radius:8px; padding:9px 18px;
           font-weight:600; font-size:15px; cursor:pointer; }
  button:disabled { opacity:.55; cursor:default; }
  .hint { color:var(--muted); font-size:13px; }
  .count { margin-left:auto; color:var(--muted); font-size:13px; }
  #result[hidden], #error[hidden] { display:none; }
  .verdict { display:flex; align-items:baseline; gap:12px; flex-wrap:wrap; margin-bottom:14px; }
  .verdict .k { color:var(--muted); font-size:13px; text-transform:uppercase; letter-spacing:.06em; }
  #label { font-size:26px; font-weight:700; color:var(--best); }
  #conf { color:var(--muted); }
  .bars { display:grid; grid-template-columns: minmax(90px, max-content) 1fr 64px; gap:8px 12px; align-items:center; }
  .bars .name { font-size:14px; overflow-wrap:anywhere; }
  .bars .track { height:14px; background:#eef1f5; border-radius:7px; overflow:hidden; }
  .bars .fill { height:100%; width:0; background:var(--bar); border-radius:7px; transition: width .35s ease; }
  .bars .best .fill { background:var(--best); }
  .bars .best.name { font-weight:700; }
  .bars .pct { text-align:right; font-variant-numeric: tabular-nums; font-size:14px; }
  .meta { margin-top:14px; color:var(--muted); font-size:13px; display:flex; gap:18px; flex-wrap:wrap; }
  .meta b { color:var(--ink); font-weight:600; }
  #error { color:var(--err); background:#fdf0ee; border-color:#f3c9c3; }
  #explain[hidden] { display:none; }
  #explain h2 { font-size:15px; margin:0 0 4px; }
  #explain .hint { margin:0 0 10px; }
  #explain table { width:100%; border-collapse:collapse; font-size:13px; }
  #explain th { text-align:left; color:var(--muted); font-weight:600; padding:4px 6px; border-bottom:1px solid var(--line); }
  #explain td { padding:6px; border-bottom:1px solid var(--line); vertical-align:top; }
  #explain td.num { font-variant-numeric: tabular-nums; white-space:nowrap; }
  #explain tr.agrees td.wl { color:var(--best); font-weight:700; }
  #explain .ex { color:var(--ink); overflow-wrap:anywhere; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  #explain .wbar { height:8px; background:#eef1f5; border-radius:4px; overflow:hidden; margin-top:3px; min-width:60px; }
  #explain .wbar div { height:100%; background:var(--bar); }
  #explain tr.agrees .wbar div { background:var(--best); }
  footer { color:var(--muted); font-size:12px; text-align:center; margin-top:24px; }
  code { font-size: 12px; }
</style>
</head>
<body>
<main>
  <h1>Text classifier</h1>
  <p class="sub" id="model">Loading model information…</p>
  <form class="card" id="form">
    <label class="t" for="text">Text to classify</label>
    <textarea id="text" name="text" placeholder="Paste an e-mail or any text. Long texts are cut into overlapping windows and their predictions are combined." autofocus></textarea>
    <div class="row">
      <button type="submit" id="go">Classify</button>
      <span class="hint">or press Ctrl+Enter</span>
      <span class="count" id="count">0 words</span>
    </div>
  </form>
  <div class="card" id="error" role="alert" hidden></div>
  <section class="card" id="result" aria-live="polite" hidden>
    <div class="verdict"><span class="k">Prediction</span><span id="label"></span><span id="conf"></span></div>
    <div class="bars" id="bars"></div>
    <div class="meta"><span>Windows used: <b id="windows"></b> <span id="wsize"></span></span><span id="timing"></span></div>
  </section>
  <section class="card" id="explain" hidden>
    <h2>Window by window</h2>
    <p class="hint" id="explain-hint"></p>
    <table>
      <thead><tr><th>#</th><th>span</th><th>excerpt</th><th>window's label</th><th>probability</th></tr></thead>
      <tbody id="windows-table"></tbody>
    </table>
  </section>
  <footer>rgrid · <code>POST /predict</code> · <code>GET /info</code> · <code>GET /health</code></footer>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  let labels = [], maxLength = 0, aggregation = "";
  const pct = (p) => (100 * p).toFixed(1) + "%";
  fetch("/info").then(r => r.json()).then(info => {
    labels = info.labels || [];
    maxLength = info.max_length || 0;
    aggregation = info.aggregation || "";
    $("model").textContent = labels.length + " labels (" + labels.join(", ") + ") · " +
      info.model.num_hidden_layers + " layers, hidden " + info.model.hidden_size +
      " · windows of " + info.max_length + " tokens, stride " + info.stride + " · " + info.aggregation + " aggregation";
  }).catch(() => { $("model").textContent = "Model information unavailable."; });

  const text = $("text");
  const count = () => {
    const n = (text.value.match(/\S+/g) || []).length;
    $("count").textContent = n + (n === 1 ? " word" : " words");
  };
  text.addEventListener("input", count);
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("form").requestSubmit(); }
  });

  function showError(msg) {
    $("error").textContent = msg; $("error").hidden = false; $("result").hidden = true; $("explain").hidden = true;
  }
  // One row per window: characters [a, b) of the text (code points, as Array.from counts),
  // an excerpt, and the window's own label and probability.
  function showWindows(res, sent) {
    const ws = res.explain || [];
    if (ws.length < 2) { $("explain").hidden = true; return; }
    const chars = Array.from(sent);
    const cut = (a, b) => {
      const s = chars.slice(a, b).join("").replace(/\s+/g, " ").trim();
      return s.length > 160 ? s.slice(0, 100) + " … " + s.slice(-50) : s;
    };
    const agree = ws.filter(w => w.label === res.label).length;
    $("explain-hint").textContent = ws.length + " overlapping windows; " + agree + " of them say " + res.label +
      " on their own. The answer above combines their logits (" + (aggregation || "mean") + ").";
    const body = $("windows-table");
    body.replaceChildren();
    for (const w of ws) {
      const tr = document.createElement("tr");
      if (w.label === res.label) tr.className = "agrees";
      const td = (cls, text) => { const d = document.createElement("td"); d.className = cls; d.textContent = text; tr.appendChild(d); return d; };
      td("num", String(w.window + 1));
      td("num span", "chars " + w.chars[0] + "–" + w.chars[1] + " · tokens " + w.tokens[0] + "–" + w.tokens[1]);
      td("ex", cut(w.chars[0], w.chars[1]));
      td("wl", w.label);
      const p = td("num wp", pct(w.probability));
      const bar = document.createElement("div"); bar.className = "wbar";
      const f = document.createElement("div"); f.style.width = (100 * w.probability).toFixed(1) + "%";
      bar.appendChild(f); p.appendChild(bar);
      body.appendChild(tr);
    }
    $("explain").hidden = false;
  }
  function show(res, ms, sent) {
    $("error").hidden = true;
    const order = labels.length ? labels : Object.keys(res.probabilities);
    $("label").textContent = res.label;
    $("conf").textContent = "with probability " + pct(res.probabilities[res.label]);
    const bars = $("bars");
    bars.replaceChildren();
    const fills = [];
    for (const name of order) {
      const p = res.probabilities[name] ?? 0;
      const best = name === res.label ? " best" : "";
      const n = document.createElement("div"); n.className = "name" + best; n.textContent = name;
      const t = document.createElement("div"); t.className = "track" + best;
      const f = document.createElement("div"); f.className = "fill"; t.appendChild(f);
      t.setAttribute("role", "meter"); t.setAttribute("aria-label", name);
      t.setAttribute("aria-valuemin", "0"); t.setAttribute("aria-valuemax", "1"); t.setAttribute("aria-valuenow", p.toFixed(4));
      const v = document.createElement("div"); v.className = "pct"; v.textContent = pct(p);
      bars.append(n, t, v); fills.push([f, p]);
    }
    $("windows").textContent = res.windows;
    $("wsize").textContent = maxLength ? "(windows of up to " + maxLength + " tokens)" : "";
    $("timing").textContent = "answered in " + ms.toFixed(0) + " ms";
    $("result").hidden = false;
    requestAnimationFrame(() => fills.forEach(([f, p]) => { f.style.width = (100 * p).toFixed(2) + "%"; }));
    showWindows(res, sent);
  }

  $("form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!text.value.trim()) { showError("Please enter some text first."); return; }
    const go = $("go"); go.disabled = true; go.textContent = "Classifying…";
    const t0 = performance.now();
    const sent = text.value;
    try {
      const r = await fetch("/predict", { method: "POST", headers: { "Content-Type": "application/json" },
                                          body: JSON.stringify({ text: sent, explain: true }) });
      const body = await r.json().catch(() => ({ error: "the server sent a response that is not JSON" }));
      if (!r.ok) showError("Error " + r.status + ": " + (body.error || r.statusText));
      else show(body, performance.now() - t0, sent);
    } catch (err) {
      showError("Could not reach the server: " + err.message);
    } finally {
      go.disabled = false; go.textContent = "Classify";
    }
  });
})();
</script>
</body>
</html>
)HTML";
}

}  // namespace rgrid::serve
