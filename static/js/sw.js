// Service worker of the steward scan page (served as /steward/sw.js, scope /steward/) and of
// the collector's pickup page (/collector/sw.js, scope /collector/, cache prefix "collector-").
// The server prepends `self.SW_CONFIG = {version, page, precache, prefix?}`; the version changes
// whenever this file or a pre-cached asset changes, so phones pick up new code.
//
// - Install: pre-cache the scan page, its JS/CSS and the zxing scanner (.js + .wasm).
// - The page: network first (fresh station list and CSRF token), the cached copy offline.
// - Pre-cached assets: cache first (they are versioned through SW_CONFIG.version).
// - Everything else, and every non-GET request (the drop API): straight to the network;
//   the page's IndexedDB queue, not this worker, keeps drops made offline.
/* global self, caches */
"use strict";

const CONFIG = self.SW_CONFIG || { version: "dev", page: "/steward/scan", precache: [] };
// Each page's worker keeps (and cleans up) only its own caches.
const PREFIX = CONFIG.prefix || "steward-";
const CACHE = PREFIX + CONFIG.version;
// The page, and the pages it links to that must open offline too (SW_CONFIG.pages: the
// collector's day list), each network first.
const PAGES = [CONFIG.page].concat(CONFIG.pages || []);
const ASSETS = CONFIG.precache.filter((url) => !PAGES.includes(url));

async function cachePage(cache, page) {
  // Only a real page is kept: a redirect to the login form must never stand in for it.
  const resp = await fetch(page, { credentials: "same-origin", cache: "no-store" });
  if (resp.ok && !resp.redirected) { await cache.put(page, resp); }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" })));
    await Promise.all(PAGES.map((page) => cachePage(cache, page).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

function isPage(request, url) {
  return request.mode === "navigate" || PAGES.includes(url.pathname);
}

async function networkFirst(request, page) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await fetch(request);
    if (resp.ok && !resp.redirected) { await cache.put(page, resp.clone()); }
    return resp;
  } catch (err) {
    const cached = await cache.match(page);
    if (cached) { return cached; }
    throw err;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) { return cached; }
  const resp = await fetch(request);
  if (resp.ok) { await cache.put(request, resp.clone()); }
  return resp;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (PAGES.includes(url.pathname) && isPage(request, url)) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});
