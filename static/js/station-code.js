// The station code display (a tablet at the station or the chief's phone): the QR code turns
// every 30 seconds. The page counts down each second and fetches the new code from the JSON
// endpoint when the countdown ends, and every few seconds anyway so a sleeping tablet or a
// drifting clock catches up. When the server cannot be reached the code is hidden once it is
// surely stale (a code is accepted for its step and one more), so nobody scans a dead code.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("station-code-config").textContent);
  const L = config.labels;
  const REFRESH_MS = 5000;
  const $ = (id) => document.getElementById(id);
  const el = { qr: $("station-qr"), digits: $("station-digits"),
               countdown: $("station-countdown"), error: $("station-error") };

  let left = parseInt(el.countdown.dataset.expiresIn, 10) || config.step;
  let lastOk = Date.now();
  let busy = false;

  function setText(node, text) { node.textContent = text == null ? "" : String(text); }
  function showError(text) { setText(el.error, text); el.error.hidden = !text; }
  function render() { setText(el.countdown, L.seconds.replace("%(n)s", String(Math.max(0, left)))); }

  async function refresh() {
    if (busy) { return; }
    busy = true;
    try {
      const resp = await fetch(config.url, { headers: { Accept: "application/json" },
                                             credentials: "same-origin", cache: "no-store" });
      if (resp.status === 401 || resp.status === 403 || resp.redirected) {
        showError(L.logged_out);
        return;
      }
      if (!resp.ok) { throw new Error(String(resp.status)); }
      const data = await resp.json();
      if (String(data.step) !== el.qr.dataset.step) {
        el.qr.src = data.qr;
        el.qr.dataset.step = String(data.step);
        setText(el.digits, data.digits);
      }
      left = data.expires_in;
      lastOk = Date.now();
      el.qr.hidden = false;
      el.digits.hidden = false;
      showError("");
      render();
    } catch (e) {
      showError(L.offline);
      // Two steps without a fresh code: what is shown is no longer accepted.
      if (Date.now() - lastOk > 2 * config.step * 1000) {
        el.qr.hidden = true;
        el.digits.hidden = true;
      }
    } finally {
      busy = false;
    }
  }

  setInterval(() => {
    left -= 1;
    if (left <= 0) { refresh(); }
    render();
  }, 1000);
  setInterval(refresh, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { refresh(); }
  });
  render();
  document.body.dataset.stationCodeReady = "1";
})();
