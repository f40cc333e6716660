// The steward's offline queue: every drop is written here (IndexedDB) BEFORE it is sent.
// An item is keyed by its client id, so re-sending it after a lost answer, a reload or a
// crash is harmless: the server stores a client id once and answers retries as replays.
// Items stay "pending" until the server answers for them; items the server refused for
// good move to the "failed" store (still on the phone, shown to the steward).
(function () {
  "use strict";

  var VERSION = 2;   // 2: the "photos" store (a verdict's photo, sent after its drop)

  function promisify(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function ScanQueue(name) {
    this.name = name;
    this._db = null;
  }

  ScanQueue.prototype.open = function () {
    var self = this;
    if (self._db) { return Promise.resolve(self._db); }
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(self.name, VERSION);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains("pending")) {
          db.createObjectStore("pending", { keyPath: "client_id" });
        }
        if (!db.objectStoreNames.contains("failed")) {
          db.createObjectStore("failed", { keyPath: "client_id" });
        }
        if (!db.objectStoreNames.contains("photos")) {
          db.createObjectStore("photos", { keyPath: "client_id" });
        }
      };
      req.onsuccess = function () { self._db = req.result; resolve(self._db); };
      req.onerror = function () { reject(req.error); };
    });
  };

  // Run fn(stores) in one transaction; resolves with fn's value once the transaction commits,
  // so a caller never sends a drop the phone has not durably stored.
  ScanQueue.prototype._tx = function (names, mode, fn) {
    return this.open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var stores = {};
        names.forEach(function (n) { stores[n] = tx.objectStore(n); });
        var value;
        Promise.resolve(fn(stores)).then(function (v) { value = v; }, reject);
        tx.oncomplete = function () { resolve(value); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("transaction aborted")); };
      });
    });
  };

  // Store a new drop: {client_id, payload, meta, created}.
  ScanQueue.prototype.add = function (item) {
    return this._tx(["pending"], "readwrite", function (s) { s.pending.put(item); });
  };

  // Pending drops, oldest first.
  ScanQueue.prototype.pending = function () {
    return this._tx(["pending"], "readonly", function (s) {
      return promisify(s.pending.getAll());
    }).then(function (items) {
      return items.sort(function (a, b) { return a.created - b.created; });
    });
  };

  ScanQueue.prototype.count = function () {
    return this._tx(["pending"], "readonly", function (s) { return promisify(s.pending.count()); });
  };

  // The server answered for these client ids (stored or replayed): forget them.
  ScanQueue.prototype.done = function (clientIds) {
    return this._tx(["pending"], "readwrite", function (s) {
      clientIds.forEach(function (id) { s.pending.delete(id); });
    });
  };

  // The server refused these for good: move them (with the reason) to the failed store.
  ScanQueue.prototype.fail = function (items) {
    return this._tx(["pending", "failed"], "readwrite", function (s) {
      items.forEach(function (item) {
        s.pending.delete(item.client_id);
        s.failed.put(item);
      });
    });
  };

  ScanQueue.prototype.failed = function () {
    return this._tx(["failed"], "readonly", function (s) {
      return promisify(s.failed.getAll());
    }).then(function (items) {
      return items.sort(function (a, b) { return b.created - a.created; });
    });
  };

  // One refused item taken out of the failed store (discarded, or loaded back to be edited).
  ScanQueue.prototype.removeFailed = function (clientId) {
    return this._tx(["failed"], "readwrite", function (s) { s.failed.delete(clientId); });
  };

  ScanQueue.prototype.clearFailed = function () {
    return this._tx(["failed"], "readwrite", function (s) { s.failed.clear(); });
  };

  // A queued drop taken back before it was sent (the steward's undo): forget it; true when
  // it was still there (false: it was sent meanwhile, so the server must void it).
  ScanQueue.prototype.remove = function (clientId) {
    var self = this;
    return self._tx(["pending"], "readonly", function (s) {
      return promisify(s.pending.count(clientId));
    }).then(function (n) {
      return self._tx(["pending", "photos"], "readwrite", function (s) {
        s.pending.delete(clientId);
        s.photos.delete(clientId);
      }).then(function () { return n > 0; });
    });
  };

  // Photos of incorrect verdicts: {client_id, blob}, sent once their drop is stored.
  ScanQueue.prototype.addPhoto = function (item) {
    return this._tx(["photos"], "readwrite", function (s) { s.photos.put(item); });
  };

  ScanQueue.prototype.photos = function () {
    return this._tx(["photos"], "readonly", function (s) { return promisify(s.photos.getAll()); });
  };

  ScanQueue.prototype.photoDone = function (clientId) {
    return this._tx(["photos"], "readwrite", function (s) { s.photos.delete(clientId); });
  };

  window.ScanQueue = ScanQueue;
})();
