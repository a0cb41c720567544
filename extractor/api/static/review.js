// The reviewer page: sign in, take the next item of a batch, decide with the keyboard.
// Every record comes from the /review/api endpoints; nothing is computed here that the server
// does not also hold (identity status comes back with each decision).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { batch: null, item: null, history: [], busy: false, zoom: 1, full: false, lang: "zh-CN" };
// Seconds before a lease runs out from which the page warns.
const LEASE_WARNING_SECONDS = 60;

// The interface in Chinese (the default) and English; the server's messages carry both.
const TEXT = {
  "zh-CN": {
    title: "年报复核", batch: "批次", undo: "撤销上一项", batchHistory: "批次记录", stats: "统计", signOut: "退出",
    leaseWarning: "复核期限即将到期，其他人将可接手这部分", leaseKeep: "继续保留", signIn: "登录", email: "电子邮箱",
    password: "密码", empty: "本批次已无待复核项。", fullPage: "整页", noImage: "没有可显示的页面。", row: "行", col: "列",
    field: "字段", read: "识别值", cellText: "原文", confidence: "置信度", suggestion: "建议值", allowed: "允许",
    save: "保存", asPrinted: "照印（整行/列原样接受）", fieldHistory: "本字段记录",
    keys: "输入数字 + Enter 更正 · 直接 Enter 确认 · Ctrl+Enter 照印 · PageDown 下一项 · PageUp 上一项 · Ctrl+Z 撤销 · Esc 清空",
    keysIdentity: "选择单元格后输入数字 + Enter 更正该格 · 直接 Enter 照印（报告原样不平衡）",
    placeholder: "输入数值 + Enter，或直接 Enter 确认", placeholderMeta: "输入正确内容 + Enter，或直接 Enter 确认",
    comment: "备注（可选，记入历史）", unreadable: "（无法识别）", progress: (d, t, p) => `已复核 ${d} / ${t} · 剩余 ${p}`,
    heldByOthers: (n) => `其中 ${n} 项正由他人复核`, nothingFree: (n) => `剩余 ${n} 项均由其他复核人处理中，请稍后再试。`,
    leaseLost: "复核期限已过且已被他人接手，已跳到下一项。", identityOf: "勾稽关系", printedAsIs: "已照印",
    who: "复核人", when: "时间", old: "原值", new: "新值", kind: "操作", reason: "原因", undone: "已撤销",
    nothingToUndo: "没有可撤销的决定。", statsHead: ["复核人", "决定数", "已撤销", "改动字段", "有效小时", "每小时项数"],
    what: { cell: "单元格", expected: "应在位置（行、列高亮）", identity: "勾稽关系各格", meta: "所在行", page: "整页" },
    meta: "元数据", typeNumber: "请输入数字",
  },
  en: {
    title: "nianbao review", batch: "batch", undo: "undo last", batchHistory: "batch history", stats: "statistics",
    signOut: "sign out", leaseWarning: "your hold on this part runs out soon; then others may take it",
    leaseKeep: "keep it", signIn: "Sign in", email: "e-mail", password: "password",
    empty: "Nothing left to review in this batch.", fullPage: "full page", noImage: "No page to show.", row: "row",
    col: "column", field: "field", read: "read", cellText: "cell text", confidence: "confidence",
    suggestion: "suggestion", allowed: "allowed", save: "save", asPrinted: "printed as is (whole row/column)",
    fieldHistory: "history of this field",
    keys: "digits + Enter correct · Enter confirm · Ctrl+Enter printed as is · PageDown next · PageUp previous · Ctrl+Z undo · Esc clear",
    keysIdentity: "pick a cell, digits + Enter correct it · Enter alone: printed as is (the report does not add up)",
    placeholder: "type the value + Enter, or Enter to confirm", placeholderMeta: "type the right text + Enter, or Enter to confirm",
    comment: "comment (optional, kept in the history)", unreadable: "(unreadable)",
    progress: (d, t, p) => `${d} of ${t} reviewed · ${p} left`, heldByOthers: (n) => `${n} of them held by other reviewers`,
    nothingFree: (n) => `The ${n} items left are held by other reviewers; try again later.`,
    leaseLost: "Your hold expired and someone else took this part; moved to the next item.",
    identityOf: "identity", printedAsIs: "printed as is", who: "reviewer", when: "when", old: "old", new: "new",
    kind: "action", reason: "reason", undone: "undone", nothingToUndo: "Nothing of yours to undo.",
    statsHead: ["reviewer", "decisions", "undone", "fields changed", "active hours", "items/hour"],
    what: { cell: "the cell", expected: "where it should be (row and column shaded)", identity: "the identity's cells",
            meta: "the line it was read from", page: "the whole page" },
    meta: "metadata", typeNumber: "type a number",
  },
};
const t = (key) => TEXT[state.lang][key];

// A message from the server is "中文 / English": show the half of the interface's language.
function localise(message) {
  const parts = String(message).split(" / ");
  if (parts.length < 2) return message;
  return state.lang === "en" ? parts.slice(1).join(" / ") : parts[0];
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const value = t(el.dataset.i18n);
    if (typeof value === "string") el.textContent = value;
  }
  $("comment").placeholder = t("comment");
  $("lang").value = state.lang;
  if (state.item) show(state.item, false);
}

// The sign-in's CSRF token: the server sets it in a cookie the script may read, and refuses a
// change (any method but GET) made with the sign-in cookie unless the header repeats it.
function csrfToken() {
  const entry = document.cookie.split("; ").find((c) => c.startsWith("nianbao_csrf="));
  return entry ? decodeURIComponent(entry.slice("nianbao_csrf=".length)) : "";
}

class ApiError extends Error {
  constructor(message, status, conflict) { super(message); this.status = status; this.conflict = conflict; }
}

async function api(method, path, body) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin",
  });
  if (response.status === 401 && !path.endsWith("/login")) { showLogin(); throw new ApiError("not signed in", 401); }
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail
      : (Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : response.statusText);
    throw new ApiError(detail, response.status, response.headers.get("X-Review-Conflict"));
  }
  return data;
}

// Where the reviewer is, kept in the address so a reload returns to the same batch and item.
function saveLocation() {
  const parts = [];
  if (state.batch) parts.push(`batch=${encodeURIComponent(state.batch)}`);
  if (state.item) parts.push(`item=${state.item.id}`);
  history.replaceState(null, "", `#${parts.join("&")}`);
}

function readLocation() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { batch: params.get("batch"), item: params.get("item") };
}

function showLogin() {
  $("login").hidden = false;
  $("workspace").hidden = true;
  for (const id of ["batch-picker", "logout", "undo", "show-history", "show-stats"]) $(id).hidden = true;
  $("login-email").focus();
}

async function start() {
  let me;
  try { me = await api("GET", "/review/api/me"); } catch { return; }
  $("who").textContent = `${me.email} (${me.role})`;
  $("login").hidden = true;
  $("workspace").hidden = false;
  for (const id of ["logout", "undo", "show-history", "show-stats"]) $(id).hidden = false;
  const saved = readLocation();
  state.batch = saved.batch;
  await loadBatches();
  if (!state.batch) return;
  if (saved.item && saved.batch === state.batch) {
    try { await show(await api("GET", `/review/api/items/${saved.item}`)); return; } catch { /* taken: go on */ }
  }
  await nextItem();
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
  return current;
}

function showProgress(p) {
  let text = t("progress")(p.done + p.resolved, p.total, p.pending);
  if (p.leased_by_others) text += ` · ${t("heldByOthers")(p.leased_by_others)}`;
  $("progress").textContent = text;
  $("progress").dataset.pending = p.pending;
  $("progress").dataset.held = p.leased_by_others || 0;
  state.progress = p;
}

async function nextItem(after) {
  const query = after ? `?after=${after}` : "";
  const item = await api("POST", `/review/api/batches/${state.batch}/next${query}`);
  await show(item);
}

async function show(item, fresh = true) {
  state.item = item;
  saveLocation();
  if (fresh) { $("decision-error").textContent = ""; state.zoom = 1; state.full = false; }
  $("queue-empty").hidden = item !== null;
  $("item").hidden = item === null;
  $("lease-warning").hidden = true;
  if (item === null) {
    const p = await loadBatches();
    $("queue-held").hidden = !(p && p.pending > 0);
    if (p && p.pending > 0) $("queue-held").textContent = t("nothingFree")(p.pending);
    $("queue-empty").hidden = !!(p && p.pending > 0);
    return;
  }
  $("queue-held").hidden = true;
  $("item").dataset.kind = item.kind;
  $("item").dataset.version = item.version;
  $("item-source").textContent = `${item.source || `document ${item.document_id}`} · ${item.group_key}`;
  $("item-row").textContent = item.row_label;
  $("item-col").textContent = item.col_label;
  $("item-field").textContent = item.field_id;
  $("item-allowed").textContent = item.allowed || "";
  const shown = item.kind === "meta" ? (item.meta.value ?? t("unreadable")) : item.value;
  $("item-value").textContent = shown === null ? t("unreadable") : shown;
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
  renderIdentities(item);
  $("as-printed").hidden = !(item.kind === "identity" || item.identities.length > 0);
  $("value-input").placeholder = item.kind === "meta" ? t("placeholderMeta") : t("placeholder");
  $("value-input").inputMode = item.kind === "meta" ? "text" : "decimal";
  document.querySelector(".keys").textContent = item.kind === "identity" ? t("keysIdentity") : t("keys");
  showImage();
  if (fresh) {
    $("value-input").value = "";
    $("comment").value = "";
  }
  $("value-input").focus();
  const [doc, fieldHistory] = await Promise.all([
    api("GET", `/review/api/documents/${item.document_id}/view?batch=${encodeURIComponent(item.batch_id)}`),
    api("GET", `/review/api/documents/${item.document_id}/history?batch=${encodeURIComponent(item.batch_id)}` +
        `&field_id=${encodeURIComponent(item.field_id)}`),
  ]);
  renderDocument(doc);
  renderHistory($("field-history"), fieldHistory, false);
}

// The item's picture: its crop, or the whole page with the same highlights; zoomed by CSS.
function showImage() {
  const item = state.item;
  const url = item && (state.full ? item.page_url : item.image_url);
  $("no-crop").hidden = !!url;
  $("crop").hidden = !url;
  $("image-tools").hidden = !url;
  if (url && $("crop").getAttribute("src") !== url) $("crop").src = url;
  $("crop").style.width = `${Math.round(state.zoom * 100)}%`;
  $("crop").dataset.zoom = state.zoom;
  $("picture-what").textContent = item && item.picture ? t("what")[state.full ? "page" : item.picture] : "";
}

function zoom(factor) {
  state.zoom = factor === 0 ? 1 : Math.min(8, Math.max(0.25, state.zoom * factor));
  showImage();
}

function renderIdentities(item) {
  const box = $("identities");
  box.innerHTML = "";
  const list = item.kind === "identity" ? [item.identity] : item.identities;
  list.forEach((identity, index) => {
    const div = document.createElement("div");
    div.className = "identity";
    div.dataset.identity = identity.name;
    const title = document.createElement("p");
    title.textContent = `${t("identityOf")} ${identity.name}: ${identity.detail}`;
    div.appendChild(title);
    const table = document.createElement("table");
    table.className = "identity-cells";
    for (const cell of identity.cells) {
      const tr = table.insertRow();
      tr.dataset.field = cell.field_id;
      tr.className = `st-${cell.status} ${cell.side}`;
      const pick = tr.insertCell();
      if (item.kind === "identity") {
        const radio = document.createElement("input");
        radio.type = "radio";
        radio.name = "identity-cell";
        radio.value = cell.field_id;
        radio.checked = cell.suggestion !== null || (index === 0 && cell === identity.cells[0]);
        pick.appendChild(radio);
      }
      tr.insertCell().textContent = cell.label;
      tr.insertCell().textContent = cell.value === null ? "?" : cell.value;
      tr.insertCell().textContent = cell.suggestion === null ? "" : `→ ${cell.suggestion}`;
    }
    div.appendChild(table);
    box.appendChild(div);
  });
}

function renderDocument(doc) {
  $("doc-title").textContent = `${doc.agency || ""} ${doc.year || ""} ${doc.published || ""} · ${doc.template || ""}`;
  const checks = $("checks");
  checks.innerHTML = "";
  for (const c of doc.checks) {
    const span = document.createElement("span");
    const accepted = doc.accepted.includes(c.identity);
    span.className = `check ${c.ok ? "ok" : (accepted ? "accepted" : "broken")}`;
    span.dataset.identity = c.identity;
    span.title = c.detail || c.fields.join(" ");
    span.textContent = accepted ? `${c.identity} (${t("printedAsIs")})` : c.identity;
    checks.appendChild(span);
  }
  const tables = $("tables");
  tables.innerHTML = "";
  for (const tpl of doc.tables) {
    const table = document.createElement("table");
    table.className = "tpl";
    table.createCaption().textContent = tpl.title;
    const head = table.insertRow();
    head.appendChild(document.createElement("th"));
    for (const label of tpl.cols) {
      const th = document.createElement("th");
      th.textContent = label;
      head.appendChild(th);
    }
    for (const row of tpl.rows) {
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

function renderHistory(table, entries, withSource) {
  table.innerHTML = "";
  if (!entries.length) return;
  const head = table.insertRow();
  const cols = [t("when"), t("who"), ...(withSource ? ["", t("field")] : []), t("kind"), t("old"), t("new"), t("reason")];
  for (const c of cols) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
  for (const e of entries) {
    const tr = table.insertRow();
    tr.className = e.undone ? "undone" : "";
    tr.dataset.kind = e.kind;
    const values = [new Date(e.at).toLocaleString(state.lang), e.reviewer || "",
      ...(withSource ? [e.source || e.document_id, e.field_id] : []),
      e.kind + (e.undone ? ` (${t("undone")})` : ""), e.old ?? "", e.new ?? "", e.reason];
    for (const v of values) tr.insertCell().textContent = v;
  }
}

async function decide(event, action) {
  if (event) event.preventDefault();
  // One request at a time: a second Enter while the first is on its way records nothing more
  // (the server refuses a second decision on the same item version anyway).
  if (!state.item || state.busy) return;
  const item = state.item;
  const text = $("value-input").value.trim();
  const body = { version: item.version, reason: $("comment").value.trim() };
  if (action) body.action = action;
  if (text !== "") body.text = text;
  if (item.kind === "identity" && text !== "") {
    const picked = document.querySelector('input[name="identity-cell"]:checked');
    body.field_id = picked ? picked.value : null;
  }
  state.busy = true;
  $("decision-form").setAttribute("aria-busy", "true");
  try {
    let answer;
    try {
      answer = await api("POST", `/review/api/items/${item.id}/decision`, body);
    } catch (error) {
      if (error.conflict === "lease") {
        // Take the lease again when nobody else did, and try once more; else move on.
        try {
          const again = await api("GET", `/review/api/items/${item.id}`);
          body.version = again.version;
          answer = await api("POST", `/review/api/items/${item.id}/decision`, body);
        } catch {
          $("decision-error").textContent = t("leaseLost");
          await nextItem();
          return;
        }
      } else if (error.conflict === "stale") {
        await nextItem();
        return;
      } else {
        $("decision-error").textContent = localise(error.message);
        return;
      }
    }
    state.history.push(item.id);
    renderDocument(answer.document);
    showProgress(answer.progress);
    await nextItem();
  } finally {
    state.busy = false;
    $("decision-form").removeAttribute("aria-busy");
  }
}

async function previous() {
  const id = state.history.pop();
  if (id === undefined) return;
  try { await show(await api("GET", `/review/api/items/${id}`)); }
  catch (error) { $("decision-error").textContent = localise(error.message); }
}

async function undo() {
  if (!state.batch || state.busy) return;
  state.busy = true;
  try {
    const answer = await api("POST", `/review/api/batches/${state.batch}/undo`);
    if (answer.item) await show(answer.item);
    else $("decision-error").textContent = t("nothingToUndo");
    await loadBatches();
  } catch (error) {
    $("decision-error").textContent = localise(error.message);
  } finally {
    state.busy = false;
  }
}

async function openSide(kind) {
  const box = $("side-content");
  box.innerHTML = "";
  const table = document.createElement("table");
  table.className = "history";
  table.id = kind === "stats" ? "stats-table" : "batch-history";
  if (kind === "stats") {
    const rows = await api("GET", `/review/api/batches/${state.batch}/stats`);
    const head = table.insertRow();
    for (const c of t("statsHead")) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
    for (const r of rows) {
      const tr = table.insertRow();
      for (const v of [r.reviewer, r.decisions, r.undone, r.fields_changed, r.active_hours, r.items_per_hour ?? "–"]) {
        tr.insertCell().textContent = v;
      }
    }
  } else {
    renderHistory(table, await api("GET", `/review/api/batches/${state.batch}/history`), true);
  }
  box.appendChild(table);
  $("side-panel").hidden = false;
}

// Warn before the lease runs out; a decision or "keep it" renews it.
setInterval(() => {
  const item = state.item;
  if (!item || !item.lease_expires_at || $("workspace").hidden) return;
  const left = (new Date(item.lease_expires_at) - Date.now()) / 1000;
  $("lease-warning").hidden = left > LEASE_WARNING_SECONDS;
}, 1000);

$("lease-keep").addEventListener("click", async () => {
  if (!state.item) return;
  try { state.item = { ...state.item, ...(await api("GET", `/review/api/items/${state.item.id}`)) }; }
  catch (error) { $("decision-error").textContent = localise(error.message); }
  $("lease-warning").hidden = true;
  $("value-input").focus();
});

// A closed tab gives its leases back at once instead of holding the group until they expire.
// A beacon cannot send headers: the CSRF token travels as its body.
window.addEventListener("pagehide", () => {
  if (!$("workspace").hidden) navigator.sendBeacon("/review/api/leases/release", csrfToken());
});

document.addEventListener("keydown", (event) => {
  if ($("workspace").hidden || !state.item) return;
  if (event.key === "PageDown") { event.preventDefault(); state.history.push(state.item.id); nextItem(state.item.id); }
  else if (event.key === "PageUp") { event.preventDefault(); previous(); }
  else if (event.key === "Escape") { $("value-input").value = ""; }
  else if (event.key === "Enter" && event.ctrlKey && !$("as-printed").hidden) { event.preventDefault(); decide(null, "as_printed"); }
  else if (event.key === "z" && event.ctrlKey) { event.preventDefault(); undo(); }
  else if (event.key === "ArrowUp" && event.ctrlKey) { event.preventDefault(); zoom(1.25); }
  else if (event.key === "ArrowDown" && event.ctrlKey) { event.preventDefault(); zoom(0.8); }
  else if (event.key === "f" && event.ctrlKey) { event.preventDefault(); state.full = !state.full; showImage(); }
});
$("image-box").addEventListener("wheel", (event) => { event.preventDefault(); zoom(event.deltaY < 0 ? 1.25 : 0.8); },
  { passive: false });
$("zoom-in").addEventListener("click", () => zoom(1.25));
$("zoom-out").addEventListener("click", () => zoom(0.8));
$("zoom-reset").addEventListener("click", () => zoom(0));
$("full-page").addEventListener("click", () => { state.full = !state.full; showImage(); });
$("as-printed").addEventListener("click", () => decide(null, "as_printed"));
$("comment").addEventListener("keydown", (event) => {
  // Enter in the comment box saves the decision too; Shift+Enter starts a new line.
  if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey) decide(event);
});
$("decision-form").addEventListener("submit", (event) => decide(event));
$("undo").addEventListener("click", undo);
$("show-history").addEventListener("click", () => openSide("history"));
$("show-stats").addEventListener("click", () => openSide("stats"));
$("side-close").addEventListener("click", () => { $("side-panel").hidden = true; });
$("lang").addEventListener("change", (event) => {
  state.lang = event.target.value;
  localStorage.setItem("nianbao-lang", state.lang);
  applyLanguage();
});
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
    $("login-error").textContent = localise(error.message);
    return;
  }
  await start();
});
$("logout").addEventListener("click", async () => {
  await api("POST", "/review/api/logout");
  showLogin();
});

state.lang = localStorage.getItem("nianbao-lang") || "zh-CN";
applyLanguage();
start();
