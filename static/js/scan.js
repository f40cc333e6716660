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
// After every scan the quality returns to the community's default (config.default_quality).
// An incorrect verdict is a deliberate tap that opens the reason list: the reason (and a
// note, a photo) go with the next scan. The same card and category again within the
// duplicate window asks "record again?" first (the server stores a repeat without points),
// also after a reload: this phone's scans of the window are kept in localStorage (the
// server's list names households, not the cards scanned) and queued ones in IndexedDB.
// A new scan while that question is open answers it "cancel" (see closeOpenQuestion).
// The steward may undo their own scans for 5 minutes: a queued one is taken back from the
// phone, a sent one is voided by the server (POST /api/v1/drops/<client_id>/void). The page
// lists the steward's scans the server still lets them undo (config.recent), so a reload
// keeps the buttons; each button goes when its 5 minutes end, counted on the server's clock
// (config.server_now: a phone's clock may be off). A refused scan never gets one.
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
    fbNote: $("feedback-note"),
    fbTitle: $("feedback-title"),
    fbAddress: $("feedback-address"),
    fbDetail: $("feedback-detail"),
    fbWarnings: $("feedback-warnings"),
    recent: $("recent-list"),
    recentEmpty: $("recent-empty"),
    failedSection: $("failed-section"),
    failed: $("failed-list"),
    clearFailed: $("clear-failed"),
    reasonPanel: $("reason-panel"),
    reasonButtons: $("reason-buttons"),
    reasonNote: $("reason-note"),
    verdictPhoto: $("verdict-photo"),
    verdictPhotoName: $("verdict-photo-name"),
    undoLast: $("undo-last"),
    repeatPanel: $("repeat-panel"),
    repeatText: $("repeat-text"),
    repeatYes: $("repeat-yes"),
    repeatNo: $("repeat-no"),
  };
  const DUPLICATE_MS = (config.duplicate_minutes || 10) * 60 * 1000;
  const VOID_MS = (config.void_minutes || 5) * 60 * 1000;
  const UNDO_MARGIN = 1000;   // the button goes a second early: the tap still has to travel
  // Server clock minus this phone's. A page served from the worker's cache carries an old
  // server time: a difference that large is the cache's age, not the phone's clock.
  const skew = (() => {
    const d = (config.server_now || Date.now()) - Date.now();
    return Math.abs(d) < 15 * 60 * 1000 ? d : 0;
  })();

  const queue = new window.ScanQueue("steward-queue-" + config.account);
  const stationKey = "steward.station." + config.account;
  const state = { station: null, category: null, quality: "correct", lastClientId: null,
    reason: null, photo: null };
  // This page's scans (and the server's recent ones): client id → {card, category, created,
  // undone, sent, label}, for the repeat question and the undo buttons. `created` is the
  // drop's device time, from which the server counts the 5 minutes.
  const mine = new Map();
  // This phone's card scans of the duplicate window, kept across reloads for the repeat
  // question: the server's list (config.recent) names the household but not the card, and
  // a sent scan leaves the queue. Only what the question needs (no verdicts, no photos).
  const scansKey = "steward.scans." + config.account;

  function rememberScans() {
    const since = Date.now() - DUPLICATE_MS;
    const keep = [];
    mine.forEach((scan, clientId) => {
      if (scan.card && scan.created >= since) {
        keep.push({ client_id: clientId, card: scan.card, category: scan.category,
          created: scan.created, undone: scan.undone, label: scan.label });
      }
    });
    try { localStorage.setItem(scansKey, JSON.stringify(keep)); } catch (e) { /* full, private */ }
  }

  function rememberedScans() {
    let items = [];
    try { items = JSON.parse(localStorage.getItem(scansKey) || "[]"); } catch (e) { items = []; }
    const since = Date.now() - DUPLICATE_MS;
    return Array.isArray(items) ? items.filter((i) => i && i.card && i.created >= since) : [];
  }

  // The scans of an earlier page load remembered on this phone (before showRecent, which
  // adds the server's word on them: household, voided).
  function restoreRemembered() {
    rememberedScans().forEach((i) => {
      mine.set(i.client_id, { card: i.card, category: i.category, created: i.created,
        undone: !!i.undone, sent: true, label: i.label || null });
    });
  }

  // Those still waiting in the queue (their cards are in their payloads): a scan queued
  // offline is in no server list.
  async function restoreQueued() {
    (await queue.pending()).forEach((item) => {
      const known = mine.get(item.client_id);
      if (known) { known.sent = false; return; }
      mine.set(item.client_id, { card: item.payload.card || null,
        category: item.payload.category, created: item.created, undone: false, sent: false,
        label: null });
    });
  }
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
    renderReasons();
    resetQuality();
  }

  function communityKey() { return state.station ? String(state.station.community_id) : ""; }

  function defaultQuality() {
    return (config.default_quality || {})[communityKey()] || "correct";
  }

  function reasonsHere() { return (config.reasons || {})[communityKey()] || []; }

  function renderReasons() {
    el.reasonButtons.replaceChildren(...reasonsHere().map((r) => {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "scan-choice scan-reason-choice";
      btn.dataset.reason = r.code;
      btn.setAttribute("data-testid", "reason-" + r.code);
      btn.setAttribute("aria-pressed", "false");
      setText(btn, r.label);
      btn.addEventListener("click", () => selectReason(r.code));
      return btn;
    }));
  }

  function selectReason(code) {
    state.reason = code;
    pressed("[data-reason]", "reason", code);
  }

  // After every scan (and on a new station): the community's default, no reason, no photo.
  function resetQuality() {
    selectQuality(defaultQuality());
    el.reasonNote.value = "";
    state.photo = null;
    setText(el.verdictPhotoName, "");
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
    el.reasonPanel.hidden = code !== "incorrect";
    if (code !== "incorrect") { selectReason(null); }
  }

  // --- feedback ------------------------------------------------------------------------

  // Every new message hides the undo button: only `showUndo`, for a scan that is stored or
  // queued on this phone, brings it back (a refusal or an error never offers one).
  function showFeedback(kind, title, address, detail, warnings) {
    el.undoLast.hidden = true;
    delete el.undoLast.dataset.undoUntil;
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
    const old = el.recent.querySelector('[data-client-id="' + item.client_id + '"]');
    const li = document.createElement("li");
    li.className = "is-" + kind;
    li.dataset.testid = "recent-item";
    li.setAttribute("data-testid", "recent-item");
    li.dataset.clientId = item.client_id;
    const span = document.createElement("span");
    setText(span, clock(item.created) + "  " + text);
    li.append(span);
    const scan = mine.get(item.client_id);
    if (kind !== "error" && undoable(scan)) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "btn btn-small scan-undo";
      btn.setAttribute("data-testid", "undo");
      btn.dataset.undoUntil = String(undoUntil(scan));
      setText(btn, L.ui.undo);
      btn.addEventListener("click", () => undo(item.client_id));
      li.append(" ", btn);
    }
    if (old) { old.replaceWith(li); } else { el.recent.prepend(li); }
    while (el.recent.children.length > RECENT_MAX) { el.recent.lastElementChild.remove(); }
    showRecentEmpty();
  }

  // "No drops yet" while the list is empty.
  function showRecentEmpty() {
    if (el.recentEmpty) { el.recentEmpty.hidden = el.recent.children.length > 0; }
  }

  // The last moment (this phone's clock) the server still accepts the scan's undo.
  function undoUntil(scan) { return scan.created + VOID_MS - skew - UNDO_MARGIN; }

  function undoable(scan) { return !!scan && !scan.undone && Date.now() < undoUntil(scan); }

  function showUndo(clientId) {
    const scan = mine.get(clientId);
    const on = undoable(scan);
    el.undoLast.hidden = !on;
    el.undoLast.dataset.clientId = clientId;
    if (on) { el.undoLast.dataset.undoUntil = String(undoUntil(scan)); }
  }

  // Undo buttons whose 5 minutes are over go (checked every second).
  function expireUndo() {
    const now = Date.now();
    document.querySelectorAll("[data-undo-until]").forEach((btn) => {
      if (now < Number(btn.dataset.undoUntil)) { return; }
      if (btn === el.undoLast) {
        btn.hidden = true;
        delete btn.dataset.undoUntil;
      } else {
        btn.remove();
      }
    });
  }

  // The server will not undo this scan any more (too late, or not the steward's).
  function dropUndo(clientId) {
    const li = el.recent.querySelector('[data-client-id="' + clientId + '"]');
    if (li) { li.querySelectorAll("button").forEach((b) => b.remove()); }
    if (el.undoLast.dataset.clientId === clientId) { el.undoLast.hidden = true; }
  }

  function onStored(item, drop) {
    const warnings = drop.replay ? [] : (drop.warnings || []);
    const address = drop.household_label || L.ui.tally;
    const kind = warnings.length ? "warn" : "ok";
    let scan = mine.get(item.client_id);
    if (!scan) {   // queued before a reload: still the steward's to undo for 5 minutes
      scan = { card: item.payload.card || null, category: item.payload.category,
        created: item.created, undone: false, sent: false, label: null };
      mine.set(item.client_id, scan);
    }
    scan.sent = true;
    if (drop.household_label) { scan.label = drop.household_label; }
    if (drop.voided) { scan.undone = true; }
    rememberScans();
    const detail = dropDetail(drop) + (drop.repeat ? " · " + L.ui.repeat : "");
    addRecent(item, address + " · " + detail, kind);
    if (drop.voided) { markUndone(item.client_id, L.ui.undone); }
    if (item.client_id === state.lastClientId) {
      showFeedback(kind, drop.replay ? L.ui.replayed : L.ui.recorded, address, detail, warnings);
      showUndo(item.client_id);
    }
  }

  function onRefused(item) {
    const scan = mine.get(item.client_id);
    if (scan) { scan.undone = true; rememberScans(); }
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

  // The steward's scans the server still lets them undo (newest first in config.recent).
  // A scan this phone remembers keeps its card (for the repeat question).
  function showRecent() {
    (config.recent || []).slice().reverse().forEach((r) => {
      const known = mine.get(r.client_id);
      mine.set(r.client_id, { card: known ? known.card : null, category: r.category,
        created: r.happened_at, undone: r.voided || !!(known && known.undone), sent: true,
        label: r.household_label });
      const address = r.household_label || L.ui.tally;
      const detail = dropDetail(r) + (r.repeat ? " · " + L.ui.repeat : "");
      addRecent({ client_id: r.client_id, created: r.happened_at }, address + " · " + detail, "ok");
      if (r.voided) { markUndone(r.client_id, L.ui.undone); }
    });
    showRecentEmpty();
  }

  // --- recording and syncing -----------------------------------------------------------

  // The same card and category scanned within the duplicate window: on this page, in an
  // earlier load of it on this phone (rememberScans) or still queued.
  function earlierScan(card, category) {
    if (!card) { return null; }
    const now = Date.now();
    for (const scan of mine.values()) {
      if (!scan.undone && scan.card === card && scan.category === category &&
          now - scan.created <= DUPLICATE_MS) { return scan; }
    }
    return null;
  }

  // Why the current verdict cannot be recorded yet (an incorrect one needs its reason, and
  // "other" a note), or null.
  function verdictProblem() {
    if (state.quality !== "incorrect") { return null; }
    const reason = reasonsHere().find((r) => r.code === state.reason);
    if (!reason) { return L.ui.choose_reason; }
    if (reason.needs_note && !el.reasonNote.value.trim()) { return L.ui.note_needed; }
    return null;
  }

  // The verdict chosen now, as the API takes it (with its photo, kept on the phone).
  function currentVerdict() {
    const verdict = { quality: state.quality };
    if (state.quality === "incorrect") {
      const note = el.reasonNote.value.trim();
      verdict.reason_code = state.reason;
      if (note) { verdict.note = note; }
    }
    return { verdict: verdict, photo: state.quality === "incorrect" ? state.photo : null };
  }

  // "Record again?" (templates/stations/scan.html #repeat-panel, confirm-panel.js). Its
  // subject is the scan exactly as it was when asked (station, category, verdict, photo):
  // "record again" records that, whatever has been chosen for the next household since.
  const repeatQuestion = new window.ConfirmPanel({
    panel: el.repeatPanel, yes: el.repeatYes, no: el.repeatNo, returnTo: el.code,
    onYes: (asked) => { setNote(""); recordDrop(asked.fields, asked.meta, asked); },
    onNo: () => setNote(""),
  });

  // What became of a question a new scan closed, shown over the new scan's result.
  function setNote(text) {
    setText(el.fbNote, text);
    el.fbNote.hidden = !text;
  }

  // A new scan while "record again?" is still open about an earlier card. At a busy station
  // the steward scans the next household while the previous one walks away, without
  // answering; a repeat earns nothing and is most often the same card shown twice. So the
  // new scan is never held up or dropped: the open question counts as "cancel" (the earlier
  // card is not recorded again) and the feedback says so above the new scan's result, so
  // the steward can still scan that card again if it really was a second drop. The same
  // card and category once more (the camera seeing it again, the code typed again) leaves
  // the question open: it is about that very scan. Returns false in that case.
  function closeOpenQuestion(fields, category) {
    if (!repeatQuestion.isOpen()) { setNote(""); return true; }   // an older note is stale
    const open = repeatQuestion.subject;
    if (open && open.fields.card === fields.card && open.category === category) {
      return false;
    }
    repeatQuestion.dismiss(false);
    const who = open && open.who;
    setNote(who ? L.ui.repeat_dropped_named.replace("%(household)s", who) : L.ui.repeat_dropped);
    return true;
  }

  // Record a scan: `asked` is set when it is the answer "record again" to the question
  // (the scan as it was asked about); otherwise the page's current choices apply.
  async function recordDrop(fields, meta, asked) {
    const station = asked ? asked.station : state.station;
    const category = asked ? asked.category : state.category;
    if (!station || !category) {
      showFeedback("error", L.ui.no_station, "", "");
      return;
    }
    const problem = asked ? null : verdictProblem();
    if (problem) { showFeedback("error", problem, "", ""); return; }
    if (!asked) {
      if (!closeOpenQuestion(fields, category)) { return; }
    }
    const { verdict, photo } = asked || currentVerdict();
    const before = asked ? null : earlierScan(fields.card, category);
    if (before) {
      const minutes = Math.max(1, Math.round((Date.now() - before.created) / 60000));
      // Named as the steward sees households everywhere (building, unit, room); the typed
      // code while the first scan's answer has not come back yet.
      const who = before.label || meta.label;
      setText(el.repeatText, (who ? L.ui.repeat_named.replace("%(household)s", who)
        : L.ui.repeat_text).replace("%(minutes)s", minutes));
      el.repeatText.dataset.household = who || "";
      repeatQuestion.ask({ fields: fields, meta: meta, station: station, category: category,
        verdict: verdict, photo: photo, who: who });
      resetQuality();   // the verdict went with the question; the next household starts afresh
      return;
    }
    const clientId = uuid();
    const item = {
      client_id: clientId,
      created: Date.now(),
      payload: Object.assign({
        client_id: clientId,
        station_id: station.id,
        category: category,
        happened_at: new Date().toISOString(),
      }, verdict, fields),
      meta: meta,
    };
    mine.set(clientId, { card: fields.card || null, category: category,
      created: item.created, undone: false, sent: false, label: null });
    rememberScans();
    // Stored on the phone before anything is sent: a crash or lost answer loses nothing.
    await queue.add(item);
    if (photo) { await queue.addPhoto({ client_id: clientId, blob: photo }); }
    state.lastClientId = clientId;
    showFeedback("queued", navigator.onLine ? L.ui.syncing : L.ui.queued, meta.label || "",
      L.categories[category]);
    showUndo(clientId);
    resetQuality();   // the next household starts from the community's default again
    await refreshCount();
    await autoSync();
  }

  // Undo one of this page's scans (within the void window): still queued, it is taken back
  // from the phone; sent, the server voids it (and reverses its points).
  async function undo(clientId) {
    const scan = mine.get(clientId);
    if (!scan || scan.undone) { return; }
    if (running) { await running; }   // never race a sync that may be sending it
    if (await queue.remove(clientId)) {
      scan.undone = true;
      markUndone(clientId, L.ui.undone);
      await refreshCount();
      return;
    }
    let resp;
    try {
      if (Date.now() - csrf.at > TOKEN_MAX_AGE) { await refreshToken(); }
      resp = await fetch(config.urls.void.replace("{client_id}", encodeURIComponent(clientId)), {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json", "X-CSRFToken": csrf.token } });
    } catch (e) {
      showFeedback("error", L.ui.undo_offline, "", "");
      return;
    }
    const data = await body(resp);
    if (resp.ok) {
      scan.undone = true;
      markUndone(clientId, data.points ? L.ui.undone_points.replace("%(points)s", data.points)
        : L.ui.undone);
      return;
    }
    showFeedback("error", errorTitle(data.error), "", data.message || "");
    if (data.error === "void_too_late" || data.error === "void_not_yours") { dropUndo(clientId); }
  }

  function markUndone(clientId, text) {
    rememberScans();   // the callers have set the scan's `undone`
    const li = el.recent.querySelector('[data-client-id="' + clientId + '"]');
    if (li) {
      li.className = "is-undone";
      li.querySelectorAll("button").forEach((b) => b.remove());
      li.append(" · " + text);
    }
    if (clientId === state.lastClientId) {
      showFeedback("undone", text, "", "");
      el.undoLast.hidden = true;
    }
  }

  // Photos of verdicts go once their drop is stored (never with the batch: a drop can wait
  // in the queue; a photo is sent after its drop).
  async function sendPhotos() {
    const photos = await queue.photos();
    for (const p of photos) {
      const waiting = (await queue.pending()).some((i) => i.client_id === p.client_id);
      if (waiting) { continue; }
      const form = new FormData();
      form.append("photo", p.blob, p.blob.name || "photo.jpg");
      let resp;
      try {
        resp = await fetch(config.urls.photo.replace("{client_id}", encodeURIComponent(p.client_id)), {
          method: "POST", credentials: "same-origin", cache: "no-store",
          headers: { Accept: "application/json", "X-CSRFToken": csrf.token }, body: form });
      } catch (e) { return; }
      if (resp.ok || (resp.status >= 400 && resp.status < 500 && resp.status !== 401)) {
        await queue.photoDone(p.client_id);
      }
      if (resp.ok) {
        const li = el.recent.querySelector('[data-client-id="' + p.client_id + '"] span');
        if (li) { li.append(" · " + L.ui.photo_added); }
      }
    }
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
      showUndo(state.lastClientId);   // still queued: taking it back is still possible
    }
    throw new Stop("server");
  }

  async function runSync() {
    el.sync.disabled = true;
    try {
      const items = await queue.pending();
      if (!items.length) { await sendPhotos(); return; }
      if (Date.now() - csrf.at > TOKEN_MAX_AGE) { await refreshToken(); }
      for (let i = 0; i < items.length; i += BATCH) {
        await sendChunk(items.slice(i, i + BATCH));
      }
      await sendPhotos();
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
    const problem = verdictProblem();
    if (problem) { showFeedback("error", problem, "", ""); return; }   // keep the code typed
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
  el.verdictPhoto.addEventListener("change", () => {
    const file = el.verdictPhoto.files && el.verdictPhoto.files[0];
    el.verdictPhoto.value = "";
    state.photo = file || null;
    setText(el.verdictPhotoName, file ? L.ui.photo_added : "");
  });
  el.undoLast.addEventListener("click", () => undo(el.undoLast.dataset.clientId));
  el.sync.addEventListener("click", () => { backOnline(); sync(); });
  el.clearFailed.addEventListener("click", async () => { await queue.clearFailed(); await renderFailed(); });

  window.addEventListener("online", () => { setNet(true); backOnline(); sync(); });
  window.addEventListener("offline", () => setNet(false));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { autoSync(); }
  });
  setInterval(autoSync, 30000);

  // The station of the steward's current (or next) shift, or the only one, comes first
  // (config.preselect); otherwise the one this phone used last.
  let remembered = null;
  try { remembered = localStorage.getItem(stationKey); } catch (e) { /* private mode */ }
  selectStation(config.preselect || remembered, false);
  resetQuality();
  setNet(navigator.onLine);
  restoreRemembered();
  showRecent();
  setInterval(expireUndo, 1000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope })
      .catch(() => { /* the page still works online without it */ });
  }
  restoreQueued().catch(() => {}).then(refreshCount).then(renderFailed).then(() => {
    document.body.dataset.scanReady = "1";
    return autoSync();
  });
})();
