// The steward's check-in/out page: scan the station's rotating QR code (camera, via
// qr-camera.js) or type its 8 digits. A QR text "CHK:<station>:<8 digits>" is put in the code
// field and the form is posted at once (the code turns every 30 seconds, so no extra tap);
// typed digits are posted by the normal submit button. The server checks everything.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("checkin-config").textContent);
  const L = config.labels;
  const QR_RE = /^CHK:\d{1,12}:\d{8}$/;    // community/volunteers/checkins/codes.py

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("code-form"),
    code: $("station-code"),
    error: $("station-code-error"),
    toggle: $("camera-toggle"),
    status: $("scanner-status"),
  };

  function setText(node, text) { node.textContent = text == null ? "" : String(text); }
  function digitsOf(text) { return String(text || "").replace(/[\s-]/g, ""); }
  function isDigits(text) { return /^\d{8}$/.test(digitsOf(text)); }
  function format(d) { return d.length > 4 ? d.slice(0, 4) + " " + d.slice(4) : d; }

  function showError(text) {
    setText(el.error, text);
    el.error.hidden = !text;
  }

  let submitted = false;
  function send(text) {
    if (submitted) { return; }   // a code still in view keeps decoding: post it once
    submitted = true;
    reader.stop();
    el.code.value = text;
    setText(el.status, L.checking);
    el.form.submit();
  }

  const reader = new window.QrCamera({
    video: $("camera"),
    wrap: $("video-wrap"),
    canvas: $("frame"),
    wasmUrl: config.wasm,
    onText: (text) => {
      const value = String(text || "").trim().toUpperCase();
      if (QR_RE.test(value)) { send(value); } else { showError(L.bad_qr); }
    },
    onLoading: (loading) => setText(el.status, loading ? L.scanner_loading : ""),
  });

  reader.bindToggle(el.toggle, el.status,
                    { on: L.camera_on, off: L.camera_off, error: L.camera_error },
                    () => { showError(""); return true; });
  el.code.addEventListener("input", () => {
    if (QR_RE.test(el.code.value.trim().toUpperCase())) { return; }   // a pasted QR text
    el.code.value = format(el.code.value.replace(/\D/g, "").slice(0, 8));
    showError("");
  });
  el.form.addEventListener("submit", (event) => {
    const value = el.code.value.trim().toUpperCase();
    if (!submitted && !QR_RE.test(value) && !isDigits(value)) {
      event.preventDefault();
      showError(L.bad_code);
      return;
    }
    submitted = true;
  });
  document.body.dataset.checkinReady = "1";
})();
