// The platform clock: server time, shown in Beijing time, re-synchronised every minute.
// Every deadline is judged by the server's clock; this only shows it.
(function () {
  "use strict";
  var box = document.querySelector(".platform-clock");
  var out = document.getElementById("platform-clock");
  if (!box || !out) { return; }
  var offsetMs = 0;
  var fmt = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
  function sync() {
    var sent = Date.now();
    fetch(box.dataset.serverTimeUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var received = Date.now();
        offsetMs = data.epoch_ms + (received - sent) / 2 - received;
        box.classList.remove("clock-offline");
      })
      .catch(function () { box.classList.add("clock-offline"); });
  }
  function tick() {
    var now = new Date(Date.now() + offsetMs);
    out.textContent = fmt.format(now);
    out.setAttribute("datetime", now.toISOString());
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Date.parse(el.dataset.deadline) - now.getTime();
      if (isNaN(left)) { return; }
      if (left <= 0) { el.textContent = gettext("已截止"); el.classList.add("passed"); return; }
      var s = Math.floor(left / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
          m = Math.floor(s % 3600 / 60), sec = s % 60;
      el.textContent = interpolate(gettext("剩余 %s 天 %s 时 %s 分 %s 秒"), [d, h, m, sec]);
    });
  }
  sync();
  setInterval(sync, 60000);
  setInterval(tick, 1000);
  tick();
})();
