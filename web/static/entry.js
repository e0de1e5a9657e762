// The console's way in: Telegram puts initData in the URL fragment (#tgWebAppData=…) and, when
// its script loaded, in Telegram.WebApp.initData. The fragment is read first so the console
// works where no outside script can be loaded. The form posts it once; the server answers with
// the session cookie and the reports page.
(function () {
  "use strict";
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var data = fragment.get("tgWebAppData") || "";
  if (!data && window.Telegram && window.Telegram.WebApp) {
    data = window.Telegram.WebApp.initData || "";
  }
  if (!data) {
    document.getElementById("entry-wait").hidden = true;
    document.getElementById("entry-missing").hidden = false;
    return;
  }
  document.getElementById("init-data").value = data;
  document.getElementById("entry-form").submit();
})();
