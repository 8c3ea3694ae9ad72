// The Rayons widget loader, for publishers. Put next to a book:
//
//   <script src="https://rayons.example/static/js/widget.js" async></script>
//   <div class="rayons-widget" data-isbn="9782070368228" data-near="Pau"></div>
//
// Each such div becomes an iframe of /widget on the server this script came from, showing the
// nearest bookshops that have the book. Optional attributes: data-lat and data-lon instead of
// data-near, data-network="<slug>" (only that network's shops), data-lang="en",
// data-height="360px". The host page's values only ever go into a URL, encoded.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var server = new URL(script.src).origin;
  var PARAMETERS = ["isbn", "near", "lat", "lon", "network", "lang"];

  function widgetUrl(placeholder) {
    var query = [];
    PARAMETERS.forEach(function (name) {
      var value = placeholder.dataset[name];
      if (value) {
        query.push(name + "=" + encodeURIComponent(value));
      }
    });
    return server + "/widget?" + query.join("&");
  }

  function embed(placeholder) {
    var frame = document.createElement("iframe");
    frame.src = widgetUrl(placeholder);
    frame.title = placeholder.dataset.title || "Rayons";
    frame.className = "rayons-widget-frame";
    // Lets the reader share their position from inside the frame, when they click for it.
    frame.setAttribute("allow", "geolocation");
    frame.setAttribute("loading", "lazy");
    frame.style.border = "0";
    frame.style.width = "100%";
    frame.style.maxWidth = "380px";
    frame.style.height = placeholder.dataset.height || "300px";
    placeholder.replaceWith(frame);
  }

  function embedAll() {
    Array.prototype.forEach.call(document.querySelectorAll("div.rayons-widget[data-isbn]"), embed);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();
