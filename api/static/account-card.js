// The card page: Stripe's Payment Element confirms the invoice's PaymentIntent in the browser (the card details go
// to Stripe, never to us), then Stripe returns the payer to the invoice page, which shows it paid once Stripe's
// webhook has arrived. Without Stripe.js (blocked, offline) the page says so and hides the pay button.
(function () {
  "use strict";
  var form = document.getElementById("card-payment");
  if (!form) { return; }
  if (typeof window.Stripe !== "function") {  // Stripe.js did not load: say so, and offer the other ways
    document.getElementById("card-unavailable").hidden = false;
    form.querySelector("button[type=submit]").hidden = true;
    return;
  }
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
