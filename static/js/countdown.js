// The reader's reservation page: the time left ticks down, and at the deadline the page says
// the hold has ended and hides the Cancel button, without a reload or the sweeper.
// Progressive: the server already wrote the time left and decides on every load; this file
// only keeps the page true between loads. Served from our origin (the CSP allows no inline
// script). The server gives the seconds left, not the deadline: a phone whose clock is wrong
// still counts right, since only the time elapsed since loading is measured here.
(function () {
  "use strict";
  var node = document.querySelector("[data-countdown]");
  if (!node) {
    return;
  }
  var loadedAt = Date.now();
  var secondsLeft = Number(node.dataset.secondsLeft);

  // The same shapes as app/templating/words.time_left_label, in the page's language.
  function format(seconds) {
    var minutes = Math.max(0, Math.ceil(seconds / 60));
    if (minutes < 60) {
      return node.dataset.patternMinutes.replace("{m}", String(minutes));
    }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) {
      return node.dataset.patternHours.replace("{h}", String(hours))
        .replace("{m}", (minutes < 10 ? "0" : "") + minutes);
    }
    return node.dataset.patternDays.replace("{d}", String(Math.floor(hours / 24)))
      .replace("{h}", String(hours % 24));
  }

  function expire() {
    document.querySelectorAll("[data-expired-label]").forEach(function (element) {
      element.textContent = element.dataset.expiredLabel;
      element.className = "state state-expired";
    });
    document.querySelectorAll("[data-until-deadline]").forEach(function (element) {
      element.hidden = true;
    });
    document.querySelectorAll("[data-after-deadline]").forEach(function (element) {
      element.hidden = false;
    });
  }

  var timer = null;
  function tick() {
    var left = secondsLeft - (Date.now() - loadedAt) / 1000;
    if (left <= 0) {
      clearInterval(timer);
      expire();
      return;
    }
    var text = format(left);
    if (node.textContent !== text) {
      node.textContent = text;
    }
  }
  timer = setInterval(tick, 1000);
  tick();
})();
