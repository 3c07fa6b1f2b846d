// The card page: Stripe's Payment Element confirms the invoice's PaymentIntent in the browser (the card details go
// to Stripe, never to us), then Stripe returns the payer to the invoice page, which shows it paid once Stripe's
// webhook has arrived. Without Stripe.js (blocked, offline) the form's plain submit goes back to the invoice page.
(function () {
  "use strict";
  var form = document.getElementById("card-payment");
  if (!form || typeof window.Stripe !== "function") { return; }
  var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret"),
                                   locale: form.getAttribute("data-locale") });
  elements.create("payment").mount("#card-element");
  var error = document.getElementById("card-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.getAttribute("data-return-url") } })
      .then(function (result) { if (result.error) { error.textContent = result.error.message; } });
  });
}());
