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
    // Telegram's theme may be dark while the phone's is light (or the other way round): our
    // own colours (badges, bars, warnings) follow Telegram's, as its --tg-theme-* colours do.
    function scheme() {
      if (app.colorScheme) { document.documentElement.setAttribute("data-scheme", app.colorScheme); }
    }
    scheme();
    if (app.onEvent) { app.onEvent("themeChanged", scheme); }
    if (window.history.length > 1 && app.BackButton) {
      app.BackButton.show();
      app.BackButton.onClick(function () { window.history.back(); });
    }
  }
  // Filters are folded on a phone; a desktop has the room to show them open.
  function unfold() {
    if (!window.matchMedia || !window.matchMedia("(min-width: 760px)").matches) { return; }
    var folds = document.querySelectorAll("details.fold");
    for (var i = 0; i < folds.length; i++) { folds[i].open = true; }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", unfold); }
  else { unfold(); }
  if (document.readyState === "complete") { withTelegram(); }
  else { window.addEventListener("load", withTelegram); }
  // Forms that ask for confirmation (data-confirm) before they are sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
