// "Autour de moi": ask for the browser's position only when the reader clicks, then search.
// Without JavaScript the button stays hidden and the typed place is used.
(function () {
  "use strict";
  var button = document.getElementById("around-me");
  if (!button || !("geolocation" in navigator)) {
    return;
  }
  var form = button.form;
  var status = document.getElementById("locate-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.asking || "…";
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.lat.value = position.coords.latitude.toFixed(5);
      form.elements.lon.value = position.coords.longitude.toFixed(5);
      form.elements.lieu.value = "";
      if (form.elements.q.value.trim() === "") {
        status.textContent = "";
        form.elements.q.focus();
        return;
      }
      form.submit();
    }, function () {
      status.textContent = button.dataset.denied || "";
    }, {timeout: 10000, maximumAge: 600000});
  });
})();
