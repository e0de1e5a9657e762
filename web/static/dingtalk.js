// The way in from DingTalk (钉钉): DingTalk's JSAPI (loaded before this file) gives a 免登 code
// for the corp, valid about five minutes and only once; the form posts it once, and the server
// asks DingTalk whose it is. Outside DingTalk there is no code: the page says where to open it.
(function () {
  "use strict";
  var form = document.getElementById("dingtalk-form");
  var corpId = form.getAttribute("data-corp-id");
  function show(id) {
    document.getElementById("entry-wait").hidden = true;
    document.getElementById(id).hidden = false;
  }
  function post(code) {
    if (!code) { show("entry-failed"); return; }
    document.getElementById("auth-code").value = code;
    form.submit();
  }
  var dd = window.dd;
  if (!dd || (dd.env && dd.env.platform === "notInDingTalk")) { show("entry-missing"); return; }
  dd.ready(function () {
    if (typeof dd.getAuthCode === "function") {
      // The newer JSAPI: {authCode} on success.
      dd.getAuthCode({
        corpId: corpId,
        success: function (res) { post(res && (res.authCode || res.code)); },
        fail: function () { show("entry-failed"); }
      });
    } else {
      // Older clients: runtime.permission.requestAuthCode, {code} on success.
      dd.runtime.permission.requestAuthCode({
        corpId: corpId,
        onSuccess: function (res) { post(res && res.code); },
        onFail: function () { show("entry-failed"); }
      });
    }
  });
  if (typeof dd.error === "function") { dd.error(function () { show("entry-failed"); }); }
})();
