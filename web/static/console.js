// Progressive enhancement only: every page works without this file.
// Inside Telegram: follow its theme and show its back button on inner pages.
(function () {
  "use strict";
  function withTelegram() {
    var app = window.Telegram && window.Telegram.WebApp;
    if (!app) { return; }
    app.ready();
    app.expand();
    document.documentElement.classList.add("in-telegram");
    if (window.history.length > 1 && app.BackButton) {
      app.BackButton.show();
      app.BackButton.onClick(function () { window.history.back(); });
    }
  }
  if (document.readyState === "complete") { withTelegram(); }
  else { window.addEventListener("load", withTelegram); }
  // Forms that ask for confirmation (data-confirm) before they are sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
