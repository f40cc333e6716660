// A QR reader for the steward pages (scan.js: household cards, pickup.js: reward pickup
// codes). It loads zxing-wasm with its .wasm from our own static folder (never a CDN; the
// scan page's service worker pre-caches it), plays the back camera in a <video>, decodes a
// downscaled frame every 200 ms and hands each QR text it reads to `onText`. It also reads a
// photo (a File). Needs vendor/zxing-wasm/reader.js loaded first.
(function () {
  "use strict";

  const FRAME_GAP = 200;     // ms between decoded frames: quick enough, easy on a phone
  const FRAME_MAX = 800;     // px: decode a downscaled frame, a code fills much of the view

  // options: video, wrap (shown while the camera runs), canvas, wasmUrl, onText(text),
  // onLoading(isLoading) (optional: the scanner module is being fetched and compiled).
  function QrCamera(options) {
    this.o = options;
    this.module = null;
    this.stream = null;
    this.timer = null;
  }

  QrCamera.prototype.load = function () {
    if (this.module) { return this.module; }
    if (!window.ZXingWASM) { return Promise.reject(new Error("zxing missing")); }
    const o = this.o;
    if (o.onLoading) { o.onLoading(true); }
    this.module = window.ZXingWASM.prepareZXingModule({
      overrides: {
        locateFile: (path, prefix) => (path.endsWith(".wasm") ? o.wasmUrl : prefix + path),
      },
      fireImmediately: true,
    }).then((m) => { if (o.onLoading) { o.onLoading(false); } return m; },
      (err) => { this.module = null; throw err; });
    return this.module;
  };

  // The text of the first valid QR code in `source` (ImageData, Blob or File), or null.
  QrCamera.prototype.read = async function (source) {
    await this.load();
    const results = await window.ZXingWASM.readBarcodes(source,
      { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 });
    const hit = results.find((r) => r.isValid !== false && r.text);
    return hit ? hit.text : null;
  };

  Object.defineProperty(QrCamera.prototype, "running", {
    get: function () { return this.stream !== null; },
  });

  // Start the back camera; resolves false when the scanner or the camera is not available.
  QrCamera.prototype.start = async function () {
    if (this.stream) { return true; }
    try {
      await this.load();
      this.stream = await navigator.mediaDevices.getUserMedia(
        { video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      this.stream = null;
      return false;
    }
    this.o.video.srcObject = this.stream;
    this.o.wrap.hidden = false;
    await this.o.video.play().catch(() => {});
    this.tick();
    return true;
  };

  QrCamera.prototype.stop = function () {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stream) { this.stream.getTracks().forEach((t) => t.stop()); }
    this.stream = null;
    this.o.video.srcObject = null;
    this.o.wrap.hidden = true;
  };

  QrCamera.prototype.tick = async function () {
    if (!this.stream) { return; }
    try {
      const v = this.o.video;
      if (v.readyState >= 2 && v.videoWidth) {
        const scale = Math.min(1, FRAME_MAX / Math.max(v.videoWidth, v.videoHeight));
        const w = Math.round(v.videoWidth * scale);
        const h = Math.round(v.videoHeight * scale);
        const canvas = this.o.canvas;
        canvas.width = w; canvas.height = h;
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(v, 0, 0, w, h);
        const text = await this.read(ctx.getImageData(0, 0, w, h));
        if (text && this.stream) { this.o.onText(text); }
      }
    } catch (e) { /* a bad frame: try the next one */ }
    if (this.stream) { this.timer = setTimeout(() => this.tick(), FRAME_GAP); }
  };

  // A start/stop button for the camera: its label follows the state, a failure is shown in
  // `status`, and the camera stops whenever the page is hidden. `canStart()` may refuse
  // (e.g. no station chosen yet). Returns {start, stop}.
  QrCamera.prototype.bindToggle = function (button, status, labels, canStart) {
    const cam = this;
    async function start() {
      if (canStart && !canStart()) { return; }
      if (!(await cam.start())) { status.textContent = labels.error; return; }
      button.textContent = labels.on;
      button.dataset.on = "1";
    }
    function stop() {
      cam.stop();
      button.textContent = labels.off;
      delete button.dataset.on;
    }
    button.addEventListener("click", () => (cam.running ? stop() : start()));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible") { stop(); }
    });
    return { start, stop };
  };

  window.QrCamera = QrCamera;
})();
