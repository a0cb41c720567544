// The reviewer page: sign in, take the next item of a batch, confirm or correct with the keyboard.
// Every record comes from the /review/api endpoints; nothing is computed here that the server
// does not also hold (identity status comes back with each decision).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { batch: null, item: null, history: [] };

// The sign-in's CSRF token: the server sets it in a cookie the script may read, and refuses a
// change (any method but GET) made with the sign-in cookie unless the header repeats it.
function csrfToken() {
  const entry = document.cookie.split("; ").find((c) => c.startsWith("nianbao_csrf="));
  return entry ? decodeURIComponent(entry.slice("nianbao_csrf=".length)) : "";
}

async function api(method, path, body) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 401 && !path.endsWith("/login")) { showLogin(); throw new Error("not signed in"); }
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

function showLogin() {
  $("login").hidden = false;
  $("workspace").hidden = true;
  $("batch-picker").hidden = true;
  $("logout").hidden = true;
  $("login-email").focus();
}

async function start() {
  let me;
  try { me = await api("GET", "/review/api/me"); } catch { return; }
  $("who").textContent = `${me.email} (${me.role})`;
  $("login").hidden = true;
  $("workspace").hidden = false;
  $("logout").hidden = false;
  await loadBatches();
  if (state.batch) await nextItem();
}

async function loadBatches() {
  const batches = await api("GET", "/review/api/batches");
  const select = $("batch-select");
  select.innerHTML = "";
  for (const b of batches) {
    const option = document.createElement("option");
    option.value = b.batch_id;
    option.textContent = `${b.name} (${b.done + b.resolved}/${b.total})`;
    select.appendChild(option);
  }
  $("batch-picker").hidden = batches.length === 0;
  state.batch = state.batch && batches.some((b) => b.batch_id === state.batch) ? state.batch
    : (batches[0] ? batches[0].batch_id : null);
  if (state.batch) select.value = state.batch;
  const current = batches.find((b) => b.batch_id === state.batch);
  if (current) showProgress(current);
}

function showProgress(p) {
  $("progress").textContent = `${p.done + p.resolved} of ${p.total} reviewed · ${p.pending} left`;
  $("progress").dataset.pending = p.pending;
}

async function nextItem(after) {
  const query = after ? `?after=${after}` : "";
  const item = await api("POST", `/review/api/batches/${state.batch}/next${query}`);
  await show(item);
}

async function show(item) {
  state.item = item;
  $("decision-error").textContent = "";
  $("queue-empty").hidden = item !== null;
  $("item").hidden = item === null;
  if (item === null) { await loadBatches(); return; }
  $("item-source").textContent = item.source || `document ${item.document_id}`;
  $("item-row").textContent = item.row_label;
  $("item-col").textContent = item.col_label;
  $("item-field").textContent = item.field_id;
  $("item-allowed").textContent = item.allowed || "";
  $("item-value").textContent = item.value === null ? "(unreadable)" : item.value;
  $("item-raw").textContent = item.raw === null ? "" : item.raw;
  $("item-confidence").textContent = item.confidence === null ? "?" : item.confidence.toFixed(2);
  $("item-suggestion").textContent = item.suggestion === null ? "—" : item.suggestion;
  const reasons = $("item-reasons");
  reasons.innerHTML = "";
  for (const r of item.reasons) {
    const li = document.createElement("li");
    li.textContent = r;
    reasons.appendChild(li);
  }
  $("no-crop").hidden = item.crop_url !== null;
  $("crop").hidden = item.crop_url === null;
  if (item.crop_url) $("crop").src = item.crop_url;
  const input = $("value-input");
  input.value = "";
  input.focus();
  renderDocument(await api("GET", `/review/api/documents/${item.document_id}/view?batch=${item.batch_id}`));
}

function renderDocument(doc) {
  $("doc-title").textContent = `${doc.agency || ""} ${doc.year || ""} · ${doc.template || ""}`;
  const checks = $("checks");
  checks.innerHTML = "";
  for (const c of doc.checks) {
    const span = document.createElement("span");
    span.className = `check ${c.ok ? "ok" : "broken"}`;
    span.dataset.identity = c.identity;
    span.title = c.detail || c.fields.join(" ");
    span.textContent = c.identity;
    checks.appendChild(span);
  }
  const tables = $("tables");
  tables.innerHTML = "";
  for (const t of doc.tables) {
    const table = document.createElement("table");
    table.className = "tpl";
    const caption = table.createCaption();
    caption.textContent = t.title;
    const head = table.insertRow();
    head.appendChild(document.createElement("th"));
    for (const label of t.cols) {
      const th = document.createElement("th");
      th.textContent = label;
      head.appendChild(th);
    }
    for (const row of t.rows) {
      const tr = table.insertRow();
      const th = document.createElement("th");
      th.textContent = row.label;
      tr.appendChild(th);
      for (const cell of row.cells) {
        const td = tr.insertCell();
        td.className = "num";
        if (cell.field_id) {
          td.dataset.field = cell.field_id;
          td.textContent = cell.value === null ? "?" : cell.value;
          if (cell.status) td.classList.add(`st-${cell.status}`);
          if (state.item && cell.field_id === state.item.field_id) td.classList.add("current");
        }
      }
    }
    tables.appendChild(table);
  }
}

async function decide(event) {
  event.preventDefault();
  if (!state.item) return;
  const text = $("value-input").value.trim();
  const body = { value: text === "" ? null : Number(text), reason: "" };
  if (text !== "" && Number.isNaN(body.value)) {
    $("decision-error").textContent = "type a number";
    return;
  }
  let answer;
  try {
    answer = await api("POST", `/review/api/items/${state.item.id}/decision`, body);
  } catch (error) {
    $("decision-error").textContent = error.message;
    return;
  }
  state.history.push(state.item.id);
  renderDocument(answer.document);
  showProgress(answer.progress);
  await nextItem();
}

async function previous() {
  const id = state.history.pop();
  if (id === undefined) return;
  try { await show(await api("GET", `/review/api/items/${id}`)); }
  catch (error) { $("decision-error").textContent = error.message; }
}

document.addEventListener("keydown", (event) => {
  if ($("workspace").hidden || !state.item) return;
  if (event.key === "PageDown") { event.preventDefault(); state.history.push(state.item.id); nextItem(state.item.id); }
  else if (event.key === "PageUp") { event.preventDefault(); previous(); }
  else if (event.key === "Escape") { $("value-input").value = ""; }
});

$("decision-form").addEventListener("submit", decide);
$("batch-select").addEventListener("change", async (event) => {
  state.batch = event.target.value;
  state.history = [];
  await loadBatches();
  await nextItem();
});
$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    await api("POST", "/review/api/login", { email: $("login-email").value, password: $("login-password").value });
  } catch (error) {
    $("login-error").textContent = error.message;
    return;
  }
  await start();
});
$("logout").addEventListener("click", async () => {
  await api("POST", "/review/api/logout");
  showLogin();
});

start();
