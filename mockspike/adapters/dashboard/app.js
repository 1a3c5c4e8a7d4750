// The mockspike dashboard: the journal live from /_mockspike/events, details and side
// panels from the admin API. Plain JS, no build step, nothing fetched from elsewhere.
"use strict";

const API = "/_mockspike/";
const entries = new Map(); // number -> entry, as the journal sent it
let selected = null;
let stateTimer = null;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
const pretty = (value) => (value === null || value === undefined ? "—" : JSON.stringify(value, null, 2));

async function getJSON(path) {
  const response = await fetch(API + path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// -- the journal ------------------------------------------------------------------------

function isMiss(e) { return e.unmatched || e.cassette_miss; }

function answeredBy(e) {
  if (e.cassette_miss) return "cassette miss";
  if (e.unmatched) return "strict miss";
  if (e.rule) return e.rule;
  if (e.error) return e.error.type;
  return e.endpoint === "messages" ? "synthetic" : "";
}

function filters() {
  return {
    path: $("f-path").value.trim(),
    status: $("f-status").value.trim(),
    model: $("f-model").value.trim(),
    text: $("f-text").value.trim().toLowerCase(),
  };
}

function shown(e, f) {
  if (f.path && !e.path.includes(f.path)) return false;
  if (f.status && !String(e.status).startsWith(f.status)) return false;
  if (f.model && !(e.model || "").includes(f.model)) return false;
  if (f.text && !JSON.stringify(e).toLowerCase().includes(f.text)) return false;
  return true;
}

function row(e) {
  const tokens = e.input_tokens || e.output_tokens ? `${e.input_tokens}/${e.output_tokens}` : "";
  const tr = el("tr", { className: [e.status >= 400 || e.status === 0 ? "error" : "", isMiss(e) ? "miss" : ""].join(" ").trim() },
    el("td", { textContent: e.number }),
    el("td", { textContent: e.method }),
    el("td", { className: "path", textContent: e.path }),
    el("td", { className: "dialect", textContent: e.dialect || "anthropic" }),
    el("td", { className: "status", textContent: e.status || "dropped" }),
    el("td", { className: "model", textContent: e.model || "" }),
    el("td", { textContent: tokens }),
    el("td", { textContent: e.credits ? e.credits.toFixed(4) : "" }),
    el("td", { textContent: (e.duration * 1000).toFixed(1) }),
    el("td", { className: "by", textContent: answeredBy(e) }),
  );
  tr.dataset.number = e.number;
  if (selected === e.number) tr.classList.add("selected");
  tr.addEventListener("click", () => showDetail(e.number));
  return tr;
}

function render() {
  const f = filters();
  const body = $("journal").tBodies[0];
  const rows = [...entries.values()].sort((a, b) => b.number - a.number).filter((e) => shown(e, f)).map(row);
  body.replaceChildren(...rows);
  $("empty").hidden = entries.size > 0;
}

function add(e) {
  entries.set(e.number, e);
  render();
  scheduleState();
}

// -- one request --------------------------------------------------------------------------

function diffLines(text) {
  const pre = el("pre", { className: "diff" });
  for (const line of text.split("\n")) {
    const cls = /^\s*-/.test(line) ? "del" : /^\s*\+/.test(line) ? "add" : "";
    pre.append(el("span", { className: cls, textContent: line + "\n" }));
  }
  return pre;
}

async function showDetail(number) {
  selected = number;
  render();
  let e = entries.get(number);
  try { e = await getJSON(`requests/${number}`); entries.set(number, e); } catch (_) { /* gone: show what we have */ }
  $("detail").hidden = false;
  $("detail-title").textContent = `#${e.number} ${e.method} ${e.path} → ${e.status || "dropped"} (${answeredBy(e)})`;
  const miss = $("detail-miss");
  miss.hidden = !(isMiss(e) || e.error);
  if (e.error) {
    miss.querySelector("h3").textContent = isMiss(e) ? "Why it missed" : `Error: ${e.error.type}`;
    miss.replaceChild(diffLines(e.error.message), miss.querySelector("pre"));
  }
  $("detail-request").textContent = e.body_summary ? pretty(e.body_summary) : pretty(e.body);
  $("detail-headers").textContent = pretty(e.headers);
  $("detail-openai").hidden = e.dialect !== "openai" || !e.translated;
  $("detail-ignored").textContent = e.ignored && e.ignored.length ? e.ignored.join("\n") : "nothing";
  $("detail-translated").textContent = pretty(e.translated);
  const reply = e.reply || {};
  if (reply.events && reply.events.length) {
    $("detail-reply-title").textContent = `Stream events (${reply.events.length}, ended: ${reply.end})`;
    $("detail-reply").textContent = reply.events.join("");
  } else {
    $("detail-reply-title").textContent = "Reply body";
    let text = reply.body || "—";
    try { text = pretty(JSON.parse(text)); } catch (_) { /* not JSON: as sent */ }
    $("detail-reply").textContent = text;
  }
  if (reply.client_left_after !== null && reply.client_left_after !== undefined) {
    $("detail-reply-title").textContent += ` — the client left after ${reply.client_left_after} s`;
  }
  $("detail-reply-headers").textContent = pretty(reply.headers);
}

// -- side panels --------------------------------------------------------------------------

function list(id, items, text) {
  $(id).replaceChildren(...(items.length ? items.map((i) => el("li", { textContent: text(i) })) : [el("li", { textContent: "none" })]));
}

async function refreshState() {
  stateTimer = null;
  try {
    const [state, verdict] = await Promise.all([getJSON("state"), getJSON("verdict")]);
    $("profile").textContent = `profile ${state.profile}${state.strict ? " · strict" : ""}${state.cassette ? " · " + state.cassette : ""}`;
    const t = state.totals;
    $("totals").replaceChildren(...Object.entries(t).flatMap(([k, v]) => [el("dt", { textContent: k.replace("_", " ") }), el("dd", { textContent: v })]));
    list("rules", state.rules, (r) => `${r.rule} — ${r.calls}${r.times === null ? "" : "/" + r.times} calls`);
    list("scripts", state.scripts, (s) => s.error
      ? `${s.path}: not reloaded — ${s.error} (${s.rules} rules before it stay)`
      : `${s.path}: ${s.rules} rules, loaded ${new Date(s.loaded_at * 1000).toLocaleTimeString()}`);
    list("scenarios", Object.entries(state.scenarios), ([name, at]) => `${name}: ${at}`);
    list("wallets", state.wallets, (w) => `${w.key}: ${w.balance.toFixed(4)} credits`);
    list("buckets", state.buckets, (b) => `${b.key} ${b.bucket}: ${b.remaining}/${b.capacity}`);
    list("cache", state.cache, (c) => `${c.api_key} ${c.model}: ${c.tokens} tokens, ${c.expires_in}s left`);
    const findings = verdict.findings;
    if (findings.length) {
      $("verdict").replaceChildren(...findings.map((f) => el("li", { className: "sev-" + f.severity, textContent: `${f.rule}: ${f.message}` })));
    } else {
      $("verdict").replaceChildren(el("li", { className: "ok", textContent: "no finding" }));
    }
  } catch (_) { /* the server went away; the event stream shows it */ }
}

function scheduleState() {
  if (stateTimer === null) stateTimer = setTimeout(refreshState, 300);
}

// -- live ---------------------------------------------------------------------------------

async function reload() {
  const data = await getJSON("requests");
  entries.clear();
  for (const e of data.requests) entries.set(e.number, e);
  render();
  scheduleState();
}

// Headless tools (a HeadlessChrome user agent, or navigator.webdriver: Playwright, WebDriver,
// `chromium --headless --screenshot`) poll the
// state every second instead: an event stream is a request that never ends, and
// `--virtual-time-budget` (and "network idle" waits) would wait on it forever. `?live=stream`
// or `?live=poll` in the page's URL chooses either.
let seenTotals = null;

async function poll() {
  try {
    const state = await getJSON("state");
    $("live").textContent = "live";
    $("live").classList.remove("off");
    const totals = JSON.stringify(state.totals);
    if (totals !== seenTotals) {
      seenTotals = totals;
      await reload();
    }
  } catch (_) {
    $("live").textContent = "offline";
    $("live").classList.add("off");
  }
  setTimeout(poll, 1000);
}

function connect() {
  const chosen = new URLSearchParams(location.search).get("live");
  const headless = navigator.webdriver || /Headless/.test(navigator.userAgent);
  if (chosen === "poll" || (chosen !== "stream" && headless)) {
    poll();
    return;
  }
  const source = new EventSource(API + "events");
  source.addEventListener("open", () => {
    $("live").textContent = "live";
    $("live").classList.remove("off");
    reload();
  });
  source.addEventListener("error", () => {
    $("live").textContent = "offline";
    $("live").classList.add("off");
  });
  source.addEventListener("entry", (event) => add(JSON.parse(event.data)));
  source.addEventListener("clear", () => { entries.clear(); selected = null; $("detail").hidden = true; render(); scheduleState(); });
}

$("filters").addEventListener("input", render);
$("filters").addEventListener("submit", (event) => event.preventDefault());
$("reset").addEventListener("click", async () => {
  await fetch(API + "reset", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  await reload();
});
connect();
refreshState();
