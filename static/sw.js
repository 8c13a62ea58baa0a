// neurolab's service worker: after one visit the page, both wasm files and the worker open and
// train with the network off. Every file of the build is cached at install under a cache named
// by the build (scripts/csp.py writes the list and the version after each trunk build); a new
// build installs a new cache, drops the old one and tells the open pages, which say so.
const VERSION = '__NEUROLAB_BUILD__';
const FILES = __NEUROLAB_FILES__;
const CACHE = `neurolab-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(FILES.map((f) => new Request(f, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const old = (await caches.keys()).filter((k) => k.startsWith('neurolab-') && k !== CACHE);
    await Promise.all(old.map((k) => caches.delete(k)));
    await self.clients.claim();
    if (old.length > 0) {
      for (const client of await self.clients.matchAll({ type: 'window' })) {
        client.postMessage({ neurolab: 'updated', version: VERSION });
      }
    }
  })());
});

// Cache first (the files of one build never change); the page itself with or without a query.
self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const page = request.mode === 'navigate';
    const hit = await cache.match(page ? './index.html' : request, { ignoreSearch: page });
    return hit || fetch(request);
  })());
});
