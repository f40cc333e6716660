// The steward's reward pickup page: scan the pickup QR on the resident's phone (camera, via
// qr-camera.js) or type the code; either way the page looks the code up with a plain GET of
// the typed-code form, so it also works without the camera. The hand-over itself is a normal
// POST form (CSRF) rendered by the server.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("pickup-config").textContent);
  const L = config.labels;
  const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";   // community/households/codes.py
  const LENGTH = 10;                                     // rewards.PICKUP_CODE_LENGTH

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("pickup-form"),
    code: $("pickup-code"),
    error: $("pickup-code-error"),
    toggle: $("camera-toggle"),
    status: $("scanner-status"),
  };

  function setText(node, text) { node.textContent = text == null ? "" : String(text); }
  function normalize(text) { return String(text || "").toUpperCase().replace(/[\s-]/g, ""); }
  function isPickupCode(code) {
    return code.length === LENGTH && Array.from(code).every((c) => ALPHABET.includes(c));
  }
  function format(code) { return code.length > 5 ? code.slice(0, 5) + "-" + code.slice(5) : code; }

  function showError(text) {
    setText(el.error, text);
    el.error.hidden = !text;
  }

  let submitted = false;
  function lookUp(code) {
    if (submitted) { return; }   // a code still in view keeps decoding: look it up once
    submitted = true;
    reader.stop();
    el.code.value = format(code);
    setText(el.status, L.looking_up);
    el.form.submit();
  }

  const reader = new window.QrCamera({
    video: $("camera"),
    wrap: $("video-wrap"),
    canvas: $("frame"),
    wasmUrl: config.wasm,
    onText: (text) => {
      const code = normalize(text);
      if (isPickupCode(code)) { lookUp(code); } else { showError(L.bad_qr); }
    },
    onLoading: (loading) => setText(el.status, loading ? L.scanner_loading : ""),
  });

  reader.bindToggle(el.toggle, el.status,
                    { on: L.camera_on, off: L.camera_off, error: L.camera_error },
                    () => { showError(""); return true; });
  el.code.addEventListener("input", () => {
    const code = el.code.value.toUpperCase().replace(/[^0-9A-Z]/g, "").slice(0, LENGTH);
    el.code.value = format(code);
    showError("");
  });
  el.form.addEventListener("submit", (event) => {
    if (!isPickupCode(normalize(el.code.value))) {
      event.preventDefault();
      showError(L.bad_code);
    }
  });
  document.body.dataset.pickupReady = "1";
})();
