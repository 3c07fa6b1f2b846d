// The invoice page's "waiting for payment": asks the application's JSON (the session cookie signs the GET in)
// every few seconds and reloads the page once the invoice is no longer open, so the payer sees it paid and the
// receipt. Without JavaScript the page's refresh button does the same.
(function () {
  "use strict";
  var status = document.getElementById("payment-status");
  if (!status) { return; }
  var url = status.getAttribute("data-status-url");
  var invoiceId = status.getAttribute("data-invoice");
  var every = 4000;
  var tries = 0;

  function check() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (view) {
        var invoice = view && (view.invoices || []).filter(function (item) { return item.id === invoiceId; })[0];
        if (invoice && invoice.status !== "open") {
          status.textContent = status.getAttribute("data-paid-text");
          window.location.reload();
          return;
        }
        if (tries < 450) { window.setTimeout(check, every); }  // about half an hour: a QR's life
      })
      .catch(function () { if (tries < 450) { window.setTimeout(check, every * 2); } });
  }

  window.setTimeout(check, every);
}());
