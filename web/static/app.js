// wangge portal: progressive enhancement only; every page works without JavaScript.
(function () {
  "use strict";
  // "使用当前位置": fill latitude and longitude from the phone's GPS when the browser allows it.
  document.querySelectorAll("[data-geo]").forEach(function (button) {
    if (!navigator.geolocation) { button.hidden = true; return; }
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var form = button.form;
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lon.value = pos.coords.longitude.toFixed(6);
        button.disabled = false;
      }, function () { button.disabled = false; }, {timeout: 10000});
    });
  });
  // A form is sent once: a second tap on a slow network must not report the same event twice.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll("button[type=submit],button:not([type])").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
