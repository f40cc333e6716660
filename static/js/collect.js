// The collector's pickup page: scan (or type) the station's collection QR, fill in per
// category the bins, kg and contamination (with a photo), and save. Every pickup is written
// to the offline queue (scan-queue.js, its own IndexedDB) BEFORE it is sent, keyed by a
// client id, so a re-send after a lost answer or a reload is stored once by the server.
// The photo travels inside the pickup (a data: URL): the pickup and its evidence land
// together or not at all.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("collect-config").textContent);
  const L = config.labels;
  const TOKEN_MAX_AGE = 30 * 60 * 1000;
  const $ = (id) => document.getElementById(id);
  const el = {
    net: $("net-status"), pending: $("pending-count"), sync: $("sync-button"),
    code: $("station-code"), codeOk: $("station-code-ok"), name: $("station-name"),
    status: $("scanner-status"), toggle: $("camera-toggle"), qrPhoto: $("qr-photo"),
    form: $("pickup-form"), feedback: $("feedback"), codeError: $("station-code-error"),
    failedSection: $("failed-section"), failedList: $("failed-list"),
  };
  const queue = new window.ScanQueue("collection-queue");
  const csrf = {
    token: (document.querySelector('meta[name="csrf-token"]') || {}).content || "",
    at: Date.now(),
  };
  // editing: the client id of a refused pickup loaded back into the form.
  const state = { tag: null, photos: {}, editing: null };

  // The feedback box in the colour of its kind (app.css: .scan-feedback.is-*); with no text it
  // is hidden, never an empty bordered box.
  const KIND_CLASS = { recorded: "is-ok", queued: "is-queued", error: "is-error" };
  function say(kind, text) {
    el.feedback.className = "scan-feedback " + (KIND_CLASS[kind] || "");
    el.feedback.textContent = text;
    el.feedback.dataset.kind = kind;
    el.feedback.hidden = !text;
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) { return "c-" + crypto.randomUUID(); }
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  async function hashOf(token) {
    if (!(window.crypto && crypto.subtle)) { return null; }
    const bytes = new TextEncoder().encode(token);
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0"))
      .join("").slice(0, 20);
  }

  // The short code typed from under the QR ("abcd 2345" → "ABCD2345"), or null when the text
  // is not one (a scanned QR's long token). Same rule as rules.code_from_text.
  function shortCode(text) {
    const code = text.toUpperCase().replace(/[\s-]/g, "");
    if (code.length !== 8) { return null; }
    for (const ch of code) { if (config.code_alphabet.indexOf(ch) < 0) { return null; } }
    return code;
  }

  // A code the page does not know: online, the server says whether no station has it or its
  // station is outside the collector's area; offline, the page can only say it is not theirs.
  async function whyUnknown(token) {
    if (!navigator.onLine) { return L.ui.unknown_station; }
    try {
      const resp = await fetch(config.urls.station + "?code=" + encodeURIComponent(token), {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
      const data = await resp.json();
      return resp.ok ? L.ui.unknown_station : (data.message || L.ui.unknown_station);
    } catch (e) { return L.ui.unknown_station; }
  }

  // A refused code is said under the code field (role="alert"), where the collector is
  // looking, and the field is marked invalid; a typed code gets the focus back to fix it.
  function codeError(text, typed) {
    el.codeError.textContent = text || "";
    el.codeError.hidden = !text;
    if (!text) { el.code.removeAttribute("aria-invalid"); return; }
    state.tag = null;
    el.name.textContent = "";
    say("info", "");
    el.code.setAttribute("aria-invalid", "true");
    if (typed) { el.code.focus(); }
    el.codeError.scrollIntoView({ block: "nearest" });
  }

  // A scanned or typed code: the page names the station from its hash (offline too); an
  // unknown code is refused here, the server checks it again.
  async function setStation(text, typed) {
    let token = (text || "").trim();
    if (token.startsWith(config.prefix)) { token = token.slice(config.prefix.length); }
    else if (shortCode(token)) { token = shortCode(token); }
    else if (token && token.length < 16) {
      codeError(L.ui.bad_code, typed);
      return;
    }
    if (!token) { return; }
    const h = await hashOf(token);
    const station = h ? config.stations[h] : null;
    if (h && !station) {
      codeError(await whyUnknown(token), typed);
      return;
    }
    codeError("");
    state.tag = token;
    el.name.textContent = L.ui.station_set + ": " + (station ? station.name + " · " + station.community : token);
    el.name.dataset.stationId = station ? station.id : "";
    document.querySelectorAll("#pickup-form fieldset[data-category]").forEach((fs) => {
      fs.hidden = station ? station.categories.indexOf(fs.dataset.category) < 0 : false;
    });
    say("info", "");
  }

  const camera = window.QrCamera ? new window.QrCamera({
    video: $("video"), wrap: $("video-wrap"), canvas: $("frame"), wasmUrl: config.urls.wasm,
    onText: (text) => { setStation(text); cameraToggle.stop(); },
    onLoading: (on) => { el.status.textContent = on ? L.ui.scanner_loading : ""; },
  }) : null;
  const cameraToggle = camera ? camera.bindToggle(el.toggle, el.status,
    { on: L.ui.camera_on, off: L.ui.camera_off, error: L.ui.camera_error }) : { stop() {} };

  el.codeOk.addEventListener("click", () => setStation(el.code.value, true));
  el.code.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); setStation(el.code.value, true); }
  });
  el.qrPhoto.addEventListener("change", async () => {
    const file = el.qrPhoto.files[0];
    el.qrPhoto.value = "";
    if (!file || !camera) { return; }
    try {
      const text = await camera.read(file);
      if (text) { setStation(text); } else { el.status.textContent = L.ui.no_qr; }
    } catch (e) { el.status.textContent = L.ui.camera_error; }
  });

  function readAsDataUrl(file) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.readAsDataURL(file);
    });
  }

  document.querySelectorAll('input[type="file"][id^="photo-"]').forEach((input) => {
    input.addEventListener("change", async () => {
      const code = input.id.slice("photo-".length);
      const file = input.files[0];
      if (!file) { return; }
      state.photos[code] = await readAsDataUrl(file);
      document.querySelector('[data-photo-state="' + code + '"]').textContent = "✓";
    });
  });

  // The contaminated bins and the photo show only while the contamination box is ticked.
  function showDirty(code) {
    const box = el.form.elements["dirty-" + code];
    const fields = document.querySelector('[data-dirty-fields="' + code + '"]');
    if (box && fields) { fields.hidden = !box.checked; }
  }
  document.querySelectorAll("[data-dirty-fields]").forEach((fields) => {
    const code = fields.dataset.dirtyFields;
    el.form.elements["dirty-" + code].addEventListener("change", () => showDirty(code));
  });
  function showAllDirty() {
    document.querySelectorAll("[data-dirty-fields]").forEach((f) => showDirty(f.dataset.dirtyFields));
  }

  // The server's rules (community/collection/schemas.py LineIn), checked here before a pickup
  // is queued, online or offline: a pickup the server would refuse never leaves the form, so
  // none is refused after the collector has left the station.
  function isInt(text) { return /^\d+$/.test(text); }

  function readLines() {
    const lines = [];
    const errors = {};
    for (const fs of document.querySelectorAll("#pickup-form fieldset[data-category]")) {
      if (fs.hidden) { continue; }
      const code = fs.dataset.category;
      const binsText = el.form.elements["bins-" + code].value.trim();
      const kgText = el.form.elements["kg-" + code].value.trim();
      // A number box holding junk reads "" but reports badInput: not the same as empty.
      const kgBad = el.form.elements["kg-" + code].validity.badInput;
      const binsBad = el.form.elements["bins-" + code].validity.badInput;
      const dirty = el.form.elements["dirty-" + code].checked;
      if (!binsText && !kgText && !kgBad && !binsBad && !dirty) { continue; }
      // Bins need their weight: an empty kg is asked for, never sent as 0 (it would lower
      // the tonnage and the kitchen share).
      const kg = Number(kgText);
      if (kgBad || Number.isNaN(kg)) { errors["kg-" + code] = L.ui.kg_rule; }
      else if (kgText === "" || kg === 0) { errors["kg-" + code] = L.ui.kg_needed; }
      else if (kg < 0) { errors["kg-" + code] = L.ui.kg_negative; }
      else if (kg > 10000 || !/^\d+(\.\d{1,2})?$/.test(kgText)) { errors["kg-" + code] = L.ui.kg_rule; }
      const bins = isInt(binsText) ? parseInt(binsText, 10) : NaN;
      if (!(bins >= 1 && bins <= 100)) { errors["bins-" + code] = L.ui.bins_rule; }
      const line = { category: code, bins, kg };
      if (dirty) {
        const dirtyText = el.form.elements["dirty-bins-" + code].value.trim();
        const dirtyBins = isInt(dirtyText) ? parseInt(dirtyText, 10) : NaN;
        if (!(dirtyBins >= 1 && dirtyBins <= 100)) { errors["dirty-bins-" + code] = L.ui.bins_rule; }
        else if (bins >= 1 && dirtyBins > bins) { errors["dirty-bins-" + code] = L.ui.contaminated_rule; }
        if (!state.photos[code]) { errors["photo-" + code] = L.ui.photo_needed; }
        line.contaminated_bins = dirtyBins;
        line.photo = state.photos[code];
      }
      lines.push(line);
    }
    if (Object.keys(errors).length) { return { errors }; }
    return lines.length ? { lines } : { error: L.ui.nothing };
  }

  function clearErrors() {
    document.querySelectorAll("[data-error-for]").forEach((p) => { p.hidden = true; p.textContent = ""; });
    document.querySelectorAll('#pickup-form [aria-invalid="true"]').forEach((i) => i.removeAttribute("aria-invalid"));
  }

  // Messages keyed by the form's names (bins-kitchen, kg-kitchen, dirty-bins-kitchen,
  // photo-kitchen), shown next to their fields.
  function showErrors(errors) {
    clearErrors();
    for (const [name, text] of Object.entries(errors)) {
      const p = document.querySelector('[data-error-for="' + name + '"]');
      if (p) { p.textContent = text; p.hidden = false; }
      const input = el.form.elements[name] || document.getElementById(name);
      if (input) { input.setAttribute("aria-invalid", "true"); }
    }
  }

  // The server's field keys ("lines.0.kg") as the form's names, with the rest (station,
  // time…) as plain text for the feedback line.
  function serverErrors(payload, error) {
    const fields = {};
    const rest = [];
    const names = { bins: "bins-", kg: "kg-", contaminated_bins: "dirty-bins-", photo: "photo-" };
    for (const [key, text] of Object.entries((error && error.fields) || {})) {
      const m = /^lines\.(\d+)\.(\w+)$/.exec(key);
      const line = m ? payload.lines[Number(m[1])] : null;
      if (line && names[m[2]]) { fields[names[m[2]] + line.category] = text; } else { rest.push(text); }
    }
    return { fields, rest };
  }

  function refusedText(error) {
    const fields = error && error.fields ? Object.values(error.fields) : [];
    const reasons = [...new Set([(error && error.message) || "", ...fields])].filter(Boolean);
    return L.ui.refused + ": " + (reasons.join(" · ") || L.ui.failed);
  }

  // A refused pickup back in the form, its station set and the server's messages shown.
  async function loadIntoForm(item) {
    resetForm();
    const p = item.payload;
    await setStation(p.station_tag);
    for (const line of p.lines) {
      const c = line.category;
      if (!el.form.elements["bins-" + c]) { continue; }
      el.form.elements["bins-" + c].value = Number.isFinite(line.bins) ? String(line.bins) : "";
      el.form.elements["kg-" + c].value = line.kg == null ? "" : String(line.kg);
      if (line.contaminated_bins) {
        el.form.elements["dirty-" + c].checked = true;
        el.form.elements["dirty-bins-" + c].value = String(line.contaminated_bins);
      }
      showDirty(c);
      if (line.photo) {
        state.photos[c] = line.photo;
        document.querySelector('[data-photo-state="' + c + '"]').textContent = "✓";
      }
    }
    el.form.elements.note.value = p.note || "";
    state.editing = item.client_id;
    const { fields, rest } = serverErrors(p, item.error);
    showErrors(fields);
    say("error", [refusedText(item.error), ...rest].join(" · "));
  }

  function resetForm() {
    el.form.reset();
    state.photos = {};
    state.editing = null;
    clearErrors();
    document.querySelectorAll("[data-photo-state]").forEach((s) => { s.textContent = ""; });
    showAllDirty();
  }

  // The pickups saved on this phone in the last REPEAT_MINUTES (station, category, time), so
  // a second pickup of the same station and category is asked about before it is recorded
  // (a double tap or a re-save would count the bins and kg twice).
  // The server's list (config.recent: anyone's pickups when the page was loaded) adds those
  // recorded from other phones. The server itself records every pickup it is sent (a
  // re-sent one, same client id, once): the question is the collector's, asked here.
  const REPEAT_MINUTES = config.repeat_minutes || 30;
  const RECENT_KEY = "collector-recent-pickups";
  function recentPickups() {
    let items = [];
    try { items = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]"); } catch (e) { items = []; }
    const since = Date.now() - REPEAT_MINUTES * 60 * 1000;
    if (!Array.isArray(items)) { items = []; }
    return items.concat(config.recent || []).filter((i) => i && i.at >= since)
      .sort((a, b) => a.at - b.at);
  }
  function stationKey() { return String(el.name.dataset.stationId || state.tag); }
  function rememberPickup(key, lines) {
    const at = Date.now();
    const items = recentPickups().filter((i) => !(config.recent || []).includes(i)).concat(lines.map((l) => ({ station: key, category: l.category, at })));
    try { localStorage.setItem(RECENT_KEY, JSON.stringify(items)); } catch (e) { /* full: no check */ }
  }
  // The latest earlier pickup of this station in one of these categories, with the
  // categories collected again: null when none is that recent.
  function repeatOf(key, lines) {
    const cats = new Set(lines.map((l) => l.category));
    const seen = recentPickups().filter((i) => i.station === key && cats.has(i.category));
    if (!seen.length) { return null; }
    const again = [...new Set(seen.map((i) => i.category))];
    return { at: seen[seen.length - 1].at, categories: again };
  }
  function hhmm(ms) {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  // The repeat question, in the page (collect.html #repeat-panel, confirm-panel.js): the
  // focus moves to it, the form is inert until it is answered, and the pickup it asks about
  // (station and lines as they were when asked) is the question's subject until "record
  // anyway" records it or "cancel" (or Escape) drops it. No network needed: it works offline.
  const repeatText = $("repeat-text");
  const repeatPanel = new window.ConfirmPanel({
    panel: $("repeat-panel"), yes: $("repeat-yes"), no: $("repeat-no"),
    // No `returnTo`: the Save button can take the focus only once the form is not inert.
    onYes: async (pickup) => { release(); await record(pickup); },
    onNo: () => {
      release();
      say("info", L.ui.repeat_cancelled);   // the form keeps what was typed
    },
  });
  function release() {
    el.form.inert = false;
    $("pickup-save").focus();
  }
  function askRepeat(pickup, before) {
    const names = before.categories.map((c) => L.categories[c] || c).join(L.ui.list_sep);
    repeatText.textContent = L.ui.repeat.replace("%(categories)s", names)
      .replace("%(time)s", hhmm(before.at)).replace("%(minutes)s", String(REPEAT_MINUTES));
    say("info", "");
    el.form.inert = true;
    repeatPanel.ask(pickup);
  }

  el.form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (repeatPanel.isOpen()) { return; }   // answer "record again?" first
    if (!state.tag) { say("error", L.ui.no_station); return; }
    const read = readLines();
    if (read.errors) { showErrors(read.errors); say("error", L.ui.fix_fields); return; }
    clearErrors();
    if (read.error) { say("error", read.error); return; }
    const pickup = { tag: state.tag, key: stationKey(), station: el.name.textContent,
                     lines: read.lines, note: el.form.elements.note.value.trim() };
    const before = state.editing ? null : repeatOf(pickup.key, pickup.lines);
    if (before) { askRepeat(pickup, before); return; }
    await record(pickup);
  });

  // Queue a pickup (then send it when online): `pickup` holds the station and lines read
  // from the form, before any question was asked about them.
  async function record(pickup) {
    const payload = { client_id: newClientId(), station_tag: pickup.tag,
                      happened_at: new Date().toISOString(), lines: pickup.lines };
    if (pickup.note) { payload.note = pickup.note; }
    await queue.add({ client_id: payload.client_id, payload, created: Date.now(),
                      meta: { station: pickup.station } });
    rememberPickup(pickup.key, pickup.lines);
    // A refused pickup corrected in the form replaces its refused copy.
    if (state.editing) { await queue.removeFailed(state.editing); }
    state.editing = null;
    await refreshCount();
    if (!navigator.onLine) {
      resetForm();
      say("queued", L.ui.queued);
      await renderFailed();
      return;
    }
    say("queued", L.ui.syncing);
    await sync();
    if ((await queue.pending()).some((i) => i.client_id === payload.client_id)) { await sync(); }
    // Refused now: the form keeps what was typed, with the server's messages next to it.
    const refused = (await queue.failed()).find((i) => i.client_id === payload.client_id);
    if (refused) { await loadIntoForm(refused); return; }
    resetForm();
  }

  async function refreshCount() { el.pending.textContent = String(await queue.count()); }

  // Refused pickups stay on the phone, each with its reason, until edited and resent or
  // discarded: none vanishes silently.
  async function renderFailed() {
    const items = await queue.failed();
    el.failedSection.hidden = items.length === 0;
    el.failedList.textContent = "";
    for (const item of items) {
      const li = document.createElement("li");
      li.setAttribute("data-testid", "failed-item");
      li.dataset.clientId = item.client_id;
      const text = document.createElement("span");
      text.textContent = (item.meta && item.meta.station ? item.meta.station + " · " : "") +
        refusedText(item.error);
      const edit = document.createElement("button");
      edit.type = "button";
      edit.className = "btn btn-small";
      edit.textContent = L.ui.edit;
      edit.setAttribute("data-testid", "failed-edit");
      edit.addEventListener("click", () => { loadIntoForm(item); el.form.scrollIntoView(); });
      const drop = document.createElement("button");
      drop.type = "button";
      drop.className = "btn btn-small btn-danger";
      drop.textContent = L.ui.discard;
      drop.setAttribute("data-testid", "failed-discard");
      drop.addEventListener("click", async () => {
        await queue.removeFailed(item.client_id);
        if (state.editing === item.client_id) { state.editing = null; }
        await renderFailed();
      });
      li.append(text, " ", edit, " ", drop);
      el.failedList.append(li);
    }
  }

  async function refreshToken() {
    const resp = await fetch(config.urls.csrf, { credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" } });
    if (!resp.ok) { throw new Error("csrf"); }
    csrf.token = (await resp.json()).csrf_token;
    csrf.at = Date.now();
  }

  async function post(items) {
    return fetch(config.urls.batch, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": csrf.token },
      body: JSON.stringify({ collections: items.map((i) => i.payload) }) });
  }

  let running = null;
  function sync() {
    if (running) { return running; }
    running = runSync().catch(() => {}).finally(() => { running = null; });
    return running;
  }

  async function runSync() {
    const items = await queue.pending();
    if (!items.length) { return; }
    if (!navigator.onLine) { say("queued", L.ui.offline); return; }
    el.sync.disabled = true;
    try {
      if (Date.now() - csrf.at > TOKEN_MAX_AGE) { await refreshToken(); }
      // A few at a time: each may carry photos.
      for (let i = 0; i < items.length; i += 5) {
        const chunk = items.slice(i, i + 5);
        let resp;
        try { resp = await post(chunk); } catch (e) { say("queued", L.ui.offline); return; }
        let data = {};
        try { data = await resp.json(); } catch (e) { data = {}; }
        if (resp.status === 400 && data.error === "csrf") {
          await refreshToken();
          resp = await post(chunk);
          data = await resp.json();
        }
        if (resp.status === 401) { say("error", L.ui.login_again); return; }
        if (!resp.ok) { say("error", L.ui.server_error); return; }
        const done = [];
        const failed = [];
        data.results.forEach((r, n) => {
          if (r.ok) { done.push(chunk[n].client_id); } else { failed.push(Object.assign({}, chunk[n], { error: r })); }
        });
        await queue.done(done);
        if (failed.length) { await queue.fail(failed); }
        const last = data.results[data.results.length - 1];
        if (last && last.ok) { say("recorded", last.replay ? L.ui.replayed : L.ui.recorded); }
        if (failed.length) { say("error", refusedText(failed[0].error)); }
      }
    } finally {
      el.sync.disabled = false;
      await refreshCount();
      await renderFailed();
    }
  }

  function setNet(online) {
    el.net.textContent = online ? L.ui.online : L.ui.offline;
    el.net.dataset.online = online ? "1" : "0";
  }
  window.addEventListener("online", () => { setNet(true); sync(); });
  window.addEventListener("offline", () => setNet(false));
  el.sync.addEventListener("click", () => sync());
  setNet(navigator.onLine);
  refreshCount();
  renderFailed();
  sync();
  // The service worker keeps the page and its scripts, so it also reloads offline.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope })
      .catch(() => {});
  }
  document.body.dataset.collectReady = "1";   // the browser tests wait for it
})();
