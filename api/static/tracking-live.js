// The tracking page's live status: an EventSource on the application's status stream
// (api/routes/status_stream.py; the session cookie signs it in). When the status the page shows changes, the page
// fetches itself again and swaps in its live part (#trk-live), so every word stays the server's, then says what
// changed in the aria-live region. Without JavaScript, or when the stream fails, the page's refresh link remains.
(function () {
  "use strict";
  var live = document.getElementById("trk-live");
  if (!live || !window.EventSource) { return; }
  var announce = document.getElementById("trk-announce");
  var note = live.querySelector("[data-live-note]");
  if (note) { note.hidden = false; }
  var version = live.getAttribute("data-version");
  var loading = false;

  function refresh() {
    if (loading) { return; }
    loading = true;
    fetch(window.location.pathname + window.location.search.replace(/([?&])done=[^&]*&?/, "$1"),
          { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("trk-live");
        if (!fresh) { return; }
        var current = document.getElementById("trk-live");
        current.innerHTML = fresh.innerHTML;
        current.setAttribute("data-version", fresh.getAttribute("data-version"));
        var freshNote = current.querySelector("[data-live-note]");
        if (freshNote) { freshNote.hidden = false; }
        var status = document.getElementById("trk-status");
        if (announce && status) {
          announce.textContent = live.getAttribute("data-announce").replace("%s", status.textContent);
        }
        document.dispatchEvent(new CustomEvent("tracking:updated"));
      })
      .catch(function () { /* the refresh link stays */ })
      .then(function () { loading = false; });
  }

  var source = new EventSource(live.getAttribute("data-stream"));
  source.addEventListener("status", function (event) {
    var snapshot = JSON.parse(event.data);
    if (snapshot.version !== version) {
      version = snapshot.version;
      refresh();
    }
    if (snapshot.finished) { source.close(); }
  });
  source.onerror = function () {
    // EventSource reconnects by itself after a dropped stream; a refused one (signed out) stays closed.
    if (source.readyState === EventSource.CLOSED && note) { note.hidden = true; }
  };
})();
