// The steward scan page: choose station, category and quality; scan a card (camera, typed
// short code, or a photo) or count an anonymous tally. Every drop gets a client id, is
// written to the IndexedDB queue first (scan-queue.js) and then sent with everything else
// pending in one batch to the JSON API. Offline, drops wait in the queue (surviving
// reloads; a service worker serves the page) and go out on `online`, on the Sync button,
// or on the next scan. Client ids make every retry idempotent: nothing is stored twice.
// An item the server refuses (a 4xx for that item) "needs attention": it is kept, listed for
// the steward and never blocks the rest. A 5xx, a 429 or a lost connection is "try later":
// automatic retries back off exponentially (honouring Retry-After); the Sync button always
// tries at once.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("scan-config").textContent);
  const L = config.labels;
  const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";   // community/households/codes.py
  const TOKEN_RE = /^[A-Za-z0-9_-]{16,64}$/;             // card tokens are URL-safe base64
  const BATCH = 500;                                     // the API's batch limit
  const TOKEN_MAX_AGE = 45 * 60 * 1000;                  // Flask-WTF tokens last an hour
  const RESCAN_GAP = 2500;    // the camera ignores the same card until it left view this long
  const RECENT_MAX = 20;
  const BACKOFF_FIRST = 5 * 1000;      // the first automatic retry after a failure
  const BACKOFF_MAX = 10 * 60 * 1000;  // never wait longer than this

  const $ = (id) => document.getElementById(id);
  const el = {
    station: $("station"),
    pending: $("pending-count"),
    net: $("net-status"),
    sync: $("sync-button"),
    video: $("camera"),
    videoWrap: $("video-wrap"),
    canvas: $("frame"),
    cameraToggle: $("camera-toggle"),
    scannerStatus: $("scanner-status"),
    codeForm: $("code-form"),
    code: $("short-code"),
    codeError: $("code-error"),
    photo: $("photo-input"),
    tally: $("tally-button"),
    feedback: $("feedback"),
    fbTitle: $("feedback-title"),
    fbAddress: $("feedback-address"),
    fbDetail: $("feedback-detail"),
    fbWarnings: $("feedback-warnings"),
    recent: $("recent-list"),
    failedSection: $("failed-section"),
    failed: $("failed-list"),
    clearFailed: $("clear-failed"),
  };

  const queue = new window.ScanQueue("steward-queue-" + config.account);
  const stationKey = "steward.station." + config.account;
  const state = { station: null, category: null, quality: "ungraded", lastClientId: null };
  const csrf = {
    token: (document.querySelector('meta[name="csrf-token"]') || {}).content || "",
    at: Date.now(),
  };

  // --- small helpers -------------------------------------------------------------------

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  function clock(ms) {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function setText(node, text) { node.textContent = text == null ? "" : String(text); }

  function setNet(online, text) {
    el.net.classList.toggle("badge-red", !online);
    setText(el.net, text || (online ? L.ui.online : L.ui.offline));
  }

  // --- station, category and quality ---------------------------------------------------

  function selectStation(id, remember) {
    state.station = config.stations.find((s) => String(s.id) === String(id)) || null;
    el.station.value = state.station ? String(state.station.id) : "";
    if (remember) {
      try { localStorage.setItem(stationKey, el.station.value); } catch (e) { /* private mode */ }
    }
    const accepted = state.station ? state.station.categories : [];
    document.querySelectorAll("[data-category]").forEach((btn) => {
      btn.hidden = !accepted.includes(btn.dataset.category);
    });
    if (!accepted.includes(state.category)) { selectCategory(accepted[0] || null); }
  }

  function pressed(selector, attr, value) {
    document.querySelectorAll(selector).forEach((btn) => {
      const on = btn.dataset[attr] === value;
      btn.setAttribute("aria-pressed", on ? "true" : "false");
      btn.classList.toggle("is-selected", on);
    });
  }

  function selectCategory(code) {
    state.category = code;
    pressed("[data-category]", "category", code);
    lastSeen.text = null;   // a new category for the same card in view is a new drop
  }

  function selectQuality(code) {
    state.quality = code;
    pressed("[data-quality]", "quality", code);
  }

  // --- feedback ------------------------------------------------------------------------

  function showFeedback(kind, title, address, detail, warnings) {
    el.feedback.hidden = false;
    el.feedback.className = "scan-feedback is-" + kind;
    el.feedback.dataset.state = kind;
    setText(el.fbTitle, title);
    setText(el.fbAddress, address);
    setText(el.fbDetail, detail);
    el.fbWarnings.replaceChildren(...(warnings || []).map((w) => {
      const li = document.createElement("li");
      li.dataset.warning = w;
      setText(li, L.warnings[w] || w);
      return li;
    }));
  }

  function dropDetail(drop) {
    const points = drop.points == null ? "—" : drop.points;
    return [L.categories[drop.category] || drop.category,
      L.qualities[drop.quality] || drop.quality, L.ui.points + " " + points].join(" · ");
  }

  function errorTitle(code) { return L.errors[code] || L.ui.failed; }

  function addRecent(item, text, kind) {
    const li = document.createElement("li");
    li.className = "is-" + kind;
    li.dataset.testid = "recent-item";
    li.setAttribute("data-testid", "recent-item");
    li.dataset.clientId = item.client_id;
    setText(li, clock(item.created) + "  " + text);
    el.recent.prepend(li);
    while (el.recent.children.length > RECENT_MAX) { el.recent.lastElementChild.remove(); }
  }

  function onStored(item, drop) {
    const warnings = drop.replay ? [] : (drop.warnings || []);
    const address = drop.household_label || L.ui.tally;
    const kind = warnings.length ? "warn" : "ok";
    addRecent(item, address + " · " + dropDetail(drop), kind);
    if (item.client_id === state.lastClientId) {
      showFeedback(kind, drop.replay ? L.ui.replayed : L.ui.recorded, address,
        dropDetail(drop), warnings);
    }
  }

  function onRefused(item) {
    addRecent(item, errorTitle(item.error) + " · " + (item.message || ""), "error");
    if (item.client_id === state.lastClientId) {
      showFeedback("error", errorTitle(item.error), item.meta.label || "", item.message || "");
    }
  }

  async function refreshCount() {
    const n = await queue.count();
    setText(el.pending, n);
    el.pending.dataset.count = String(n);
    return n;
  }

  async function renderFailed() {
    const items = await queue.failed();
    el.failedSection.hidden = items.length === 0;
    el.failed.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      li.setAttribute("data-testid", "failed-item");
      li.dataset.error = item.error || "";
      li.dataset.clientId = item.client_id;
      const fields = item.fields ? Object.values(item.fields) : [];
      // A domain error names its field with the same words as its message: say them once.
      const reasons = [...new Set([errorTitle(item.error), item.message || "", ...fields])];
      setText(li, [clock(item.created), item.meta.label || "",
        L.categories[item.payload.category] || item.payload.category,
        ...reasons].filter(Boolean).join(" · "));
      return li;
    }));
  }

  // --- recording and syncing -----------------------------------------------------------

  async function recordDrop(fields, meta) {
    if (!state.station || !state.category) {
      showFeedback("error", L.ui.no_station, "", "");
      return;
    }
    const clientId = uuid();
    const item = {
      client_id: clientId,
      created: Date.now(),
      payload: Object.assign({
        client_id: clientId,
        station_id: state.station.id,
        category: state.category,
        quality: state.quality,
        happened_at: new Date().toISOString(),
      }, fields),
      meta: meta,
    };
    // Stored on the phone before anything is sent: a crash or lost answer loses nothing.
    await queue.add(item);
    state.lastClientId = clientId;
    showFeedback("queued", navigator.onLine ? L.ui.syncing : L.ui.queued, meta.label || "",
      L.categories[state.category]);
    await refreshCount();
    await autoSync();
  }

  let running = null;
  let again = false;

  // One sync at a time; a request for another while one runs makes it go round once more.
  function sync() {
    if (running) { again = true; return running; }
    running = runSync().catch(() => {}).finally(() => {
      running = null;
      if (again) { again = false; sync(); }
    });
    return running;
  }

  // Automatic attempts wait for the browser to report a connection ("online" starts one)
  // and for the back-off after a failure; the Sync button always tries.
  function autoSync() {
    return navigator.onLine && Date.now() >= backoff.until ? sync() : Promise.resolve();
  }

  class Stop extends Error {}

  async function refreshToken() {
    let resp;
    try {
      resp = await fetch(config.urls.csrf, { credentials: "same-origin",
        headers: { Accept: "application/json" }, cache: "no-store" });
    } catch (e) { setNet(false); retryLater(null); throw new Stop("network"); }
    if (resp.status === 401 || resp.redirected) { setNet(true, L.ui.login_again); throw new Stop("login"); }
    if (!resp.ok) { retryLater(resp); setNet(true, L.ui.server_error); throw new Stop("server"); }
    csrf.token = (await resp.json()).csrf_token;
    csrf.at = Date.now();
  }

  async function post(chunk) {
    try {
      return await fetch(config.urls.batch, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json",
          "X-CSRFToken": csrf.token },
        body: JSON.stringify({ drops: chunk.map((i) => i.payload) }),
      });
    } catch (e) {
      setNet(false);
      retryLater(null);
      throw new Stop("network");
    }
  }

  async function body(resp) {
    try { return await resp.json(); } catch (e) { return {}; }
  }

  // "Try later": the next automatic attempt waits, doubling after each failure (and at
  // least the server's Retry-After); a success clears it.
  const backoff = { delay: 0, until: 0, timer: null };

  function retryLater(resp) {
    const asked = resp ? Number(resp.headers.get("Retry-After")) * 1000 : 0;
    backoff.delay = Math.min(BACKOFF_MAX, backoff.delay ? backoff.delay * 2 : BACKOFF_FIRST);
    const wait = Math.min(BACKOFF_MAX, Math.max(backoff.delay, asked || 0));
    backoff.until = Date.now() + wait;
    clearTimeout(backoff.timer);
    backoff.timer = setTimeout(autoSync, wait);
    document.body.dataset.retryIn = String(Math.round(wait / 1000));
  }

  function backOnline() {
    backoff.delay = 0;
    backoff.until = 0;
    clearTimeout(backoff.timer);
    delete document.body.dataset.retryIn;
  }

  // Needs attention: kept on the phone with the server's reason, listed for the steward.
  async function needsAttention(items, data) {
    const refused = items.map((item) => Object.assign({}, item, {
      error: data.error || "invalid", message: data.message || "", fields: data.fields || null }));
    await queue.fail(refused);
    refused.forEach(onRefused);
  }

  async function sendChunk(chunk) {
    let resp = await post(chunk);
    let data = await body(resp);
    if (resp.status === 400 && data.error === "csrf") {   // expired token: refresh, retry once
      await refreshToken();
      resp = await post(chunk);
      data = await body(resp);
    }
    if (resp.status === 401) { setNet(true, L.ui.login_again); throw new Stop("login"); }
    if (resp.status === 200 && Array.isArray(data.results)) {
      backOnline();
      const done = [];
      const refused = [];
      data.results.forEach((r, pos) => {
        const item = chunk[typeof r.index === "number" ? r.index : pos];
        if (!item) { return; }
        if (r.ok) {
          done.push(item.client_id);
          onStored(item, r.drop);
        } else {
          refused.push(Object.assign({}, item,
            { error: r.error, message: r.message, fields: r.fields || null }));
        }
      });
      await queue.done(done);
      await queue.fail(refused);
      refused.forEach(onRefused);
      setNet(true);
      return;
    }
    if ([400, 413, 415, 422].includes(resp.status)) {
      // The whole request was refused, so some item in it cannot be sent as it is: halve the
      // chunk until the refusal names one item, which then needs attention; the others go.
      backOnline();
      if (chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        await sendChunk(chunk.slice(0, half));
        await sendChunk(chunk.slice(half));
        return;
      }
      await needsAttention(chunk, data);
      return;
    }
    // 5xx (a database outage is 503), 403 of a whole request, 429, a proxy page…: the drops
    // stay queued and go again later, backing off.
    retryLater(resp);
    setNet(true, L.ui.server_error);
    if (state.lastClientId && chunk.some((i) => i.client_id === state.lastClientId)) {
      showFeedback("queued", L.ui.server_error, "", data.message || "");
    }
    throw new Stop("server");
  }

  async function runSync() {
    el.sync.disabled = true;
    try {
      const items = await queue.pending();
      if (!items.length) { return; }
      if (Date.now() - csrf.at > TOKEN_MAX_AGE) { await refreshToken(); }
      for (let i = 0; i < items.length; i += BATCH) {
        await sendChunk(items.slice(i, i + BATCH));
      }
    } catch (e) {
      if (!(e instanceof Stop)) { throw e; }
      if (e.message === "network" && state.lastClientId) {
        const panel = el.feedback.dataset.state;
        if (panel === "queued") { setText(el.fbTitle, L.ui.queued); }
      }
    } finally {
      el.sync.disabled = false;
      await refreshCount();
      await renderFailed();
    }
  }

  // --- card input: camera, typed code, photo, tally --------------------------------------

  const lastSeen = { text: null, at: 0 };

  function onDecoded(raw, source) {
    const text = String(raw || "").trim();
    if (source === "camera") {
      const now = Date.now();
      const same = text === lastSeen.text && now - lastSeen.at < RESCAN_GAP;
      lastSeen.at = now;
      if (same) { return; }   // the same card still in front of the camera
      lastSeen.text = text;
    }
    const code = normalizeCode(text);
    if (isShortCode(code)) {
      recordDrop({ card: formatCode(code) }, { kind: "code", label: formatCode(code) });
    } else if (TOKEN_RE.test(text)) {
      recordDrop({ card: text }, { kind: "scan", label: "" });
    } else {
      showFeedback("error", L.ui.bad_qr, "", "");
    }
  }

  function normalizeCode(text) { return String(text).toUpperCase().replace(/[\s-]/g, ""); }
  function isShortCode(code) {
    return code.length === 8 && Array.from(code).every((c) => ALPHABET.includes(c));
  }
  function formatCode(code) { return code.length > 4 ? code.slice(0, 4) + "-" + code.slice(4) : code; }

  // The camera and photo reader is shared with the reward pickup page (qr-camera.js).
  const reader = new window.QrCamera({
    video: el.video,
    wrap: el.videoWrap,
    canvas: el.canvas,
    wasmUrl: config.urls.wasm,
    onText: (text) => onDecoded(text, "camera"),
    onLoading: (loading) => setText(el.scannerStatus, loading ? L.ui.scanner_loading : ""),
  });

  function readQr(source) { return reader.read(source); }

  // --- wiring --------------------------------------------------------------------------

  el.station.addEventListener("change", () => selectStation(el.station.value, true));
  document.querySelectorAll("[data-category]").forEach((btn) =>
    btn.addEventListener("click", () => selectCategory(btn.dataset.category)));
  document.querySelectorAll("[data-quality]").forEach((btn) =>
    btn.addEventListener("click", () => selectQuality(btn.dataset.quality)));

  reader.bindToggle(el.cameraToggle, el.scannerStatus,
                    { on: L.ui.camera_on, off: L.ui.camera_off, error: L.ui.camera_error },
                    () => {
                      if (state.station) { return true; }
                      showFeedback("error", L.ui.no_station, "", "");
                      return false;
                    });

  el.code.addEventListener("input", () => {
    const code = el.code.value.toUpperCase().replace(/[^0-9A-Z]/g, "").slice(0, 8);
    el.code.value = formatCode(code);
    el.codeError.hidden = true;
  });
  el.codeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = normalizeCode(el.code.value);
    if (!isShortCode(code)) {
      setText(el.codeError, L.ui.bad_code);
      el.codeError.hidden = false;
      return;
    }
    el.code.value = "";
    recordDrop({ card: formatCode(code) }, { kind: "code", label: formatCode(code) });
  });

  el.photo.addEventListener("change", async () => {
    const file = el.photo.files && el.photo.files[0];
    el.photo.value = "";
    if (!file) { return; }
    try {
      const text = await readQr(file);
      if (text) { onDecoded(text, "photo"); } else { showFeedback("error", L.ui.no_qr, "", ""); }
    } catch (e) {
      showFeedback("error", L.ui.no_qr, "", "");
    }
  });

  el.tally.addEventListener("click", () => recordDrop({ tally: true }, { kind: "tally", label: L.ui.tally }));
  el.sync.addEventListener("click", () => { backOnline(); sync(); });
  el.clearFailed.addEventListener("click", async () => { await queue.clearFailed(); await renderFailed(); });

  window.addEventListener("online", () => { setNet(true); backOnline(); sync(); });
  window.addEventListener("offline", () => setNet(false));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { autoSync(); }
  });
  setInterval(autoSync, 30000);

  let remembered = null;
  try { remembered = localStorage.getItem(stationKey); } catch (e) { /* private mode */ }
  if (!remembered && config.stations.length === 1) { remembered = config.stations[0].id; }
  selectStation(remembered, false);
  selectQuality(state.quality);
  setNet(navigator.onLine);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope })
      .catch(() => { /* the page still works online without it */ });
  }
  refreshCount().then(renderFailed).then(() => {
    document.body.dataset.scanReady = "1";
    return autoSync();
  });
})();
