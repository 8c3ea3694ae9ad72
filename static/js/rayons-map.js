// Draws the map described by the JSON block #map-data (built by geo/maps.py) into #map.
//
// Shop names and addresses come from shops' own files: they are only ever set with textContent
// or as attribute values, never parsed as HTML, so no name can inject markup or script.
// Payload keys: t tile URL ("" = no tiles), a attribution (trusted HTML from the configuration),
// c centre or null, r reader position or null, b bounds [[s, w], [n, e]] to fit or null,
// u URL of each view's markers or null, s lines shared by several markers,
// m markers as [lat, lon, title, [line or index into s], url?].
// With u, the page carries no markers: after every move the script asks u?bbox=w,s,e,n for the
// view's markers and clusters (g: [lat, lon, count, [[s, w], [n, e]]], drawn as discs that zoom
// onto their shops), and, when the page gave no view, u alone for the box to fit first.
(function () {
  "use strict";

  const container = document.getElementById("map");
  const source = document.getElementById("map-data");
  if (!container || !source || !window.L) {
    return;
  }
  const data = JSON.parse(source.textContent);
  const labels = container.dataset;

  // Only links to our own pages or the web: a javascript: URL must never become clickable.
  function safeUrl(url) {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  }

  function paragraph(text, className) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  function popupContent(title, lines, shared, url) {
    const root = document.createElement("div");
    root.className = "map-popup";
    root.appendChild(paragraph(title, "map-popup-title"));
    lines.forEach((line) => {
      const text = typeof line === "number" ? shared[line] : line;
      root.appendChild(paragraph(text, "map-popup-line"));
    });
    const href = url ? safeUrl(url) : null;
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = labels.linkLabel || title;
      root.appendChild(link);
    }
    return root;
  }

  // maxZoom on the map itself, not only on the tiles: offline there are no tiles to say it.
  // Readers who asked their system for less motion get no fades or zoom animations.
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const map = L.map(container, {
    scrollWheelZoom: false, maxZoom: 19,
    fadeAnimation: !still, zoomAnimation: !still, markerZoomAnimation: !still,
  });
  if (data.t) {
    L.tileLayer(data.t, { attribution: data.a }).addTo(map);
  }
  const group = L.featureGroup().addTo(map);

  function clusterIcon(count) {
    const label = document.createElement("span");
    label.textContent = String(count);
    const size = count < 10 ? 32 : count < 100 ? 38 : 46;
    return L.divIcon({ html: label, className: "marker-cluster", iconSize: [size, size] });
  }

  // Shows a layer's markers (m, as in the payload) and clusters (g). Places already drawn stay
  // as they are, so that a popup stays open when opening it pans the map and the view reloads.
  const drawn = new Map();
  function draw(layer) {
    const wanted = new Map();
    layer.m.forEach(([lat, lon, title, lines, url]) => {
      wanted.set(["m", lat, lon, title].join("|"), () =>
        // alt and title are set as attributes by Leaflet: plain text, what a screen reader says.
        // Markers are no tab stops (keyboard: false): the list beside the map holds the same
        // shops and links, and ten markers before it were ten stops for nothing.
        L.marker([lat, lon], { alt: title, title: title, keyboard: false })
          .bindPopup(() => popupContent(title, lines, layer.s, url)));
    });
    (layer.g || []).forEach(([lat, lon, count, bounds]) => {
      const title = (labels.clusterLabel || "{count}").replace("{count}", String(count));
      wanted.set(["g", lat, lon, count].join("|"), () =>
        L.marker([lat, lon], { icon: clusterIcon(count), title: title, keyboard: false })
          .on("click", () => map.fitBounds(bounds, { padding: [24, 24] })));
    });
    drawn.forEach((marker, key) => {
      if (!wanted.has(key)) {
        group.removeLayer(marker);
        drawn.delete(key);
      }
    });
    wanted.forEach((make, key) => {
      if (!drawn.has(key)) {
        drawn.set(key, make().addTo(group));
      }
    });
  }

  // Each view's markers from data.u; an answer that arrives after the next move is dropped.
  let pending = null;
  function ask(query) {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    const separator = data.u.includes("?") ? "&" : "?";
    return fetch(data.u + (query ? separator + query : ""), {
      headers: { Accept: "application/json" }, signal: pending.signal,
    }).then((response) => (response.ok ? response.json() : Promise.reject(response.status)));
  }
  function clamp(value, low, high) {
    return Math.min(high, Math.max(low, value)).toFixed(5);
  }
  // The view and a quarter of it again on every side: a short pan (a popup making room for
  // itself) keeps its markers.
  function loadView() {
    const b = map.getBounds().pad(0.25);
    const box = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
                 clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].join(",");
    // A failed or overtaken request leaves the markers drawn: the list is still on the page.
    ask("bbox=" + box).then(draw, () => {});
  }

  if (data.u) {
    map.on("moveend", loadView);
  } else {
    draw(data);
  }

  if (data.r) {
    L.circleMarker(data.r, { radius: 8, color: "#fff", weight: 2, fillColor: "#8a2c0d",
                             fillOpacity: 1, className: "map-reader" })
      .bindPopup(() => popupContent(labels.readerLabel || "", [], [], null))
      .addTo(map);
  }

  // Nothing to show: metropolitan France, rather than an empty world at zoom 0.
  function showFrance() {
    map.setView([46.6, 2.4], 5);
  }
  function fit(bounds) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  }
  const points = data.m.map(([lat, lon]) => [lat, lon]).concat(data.r ? [data.r] : []);
  if (data.c) {
    map.setView(data.c, 13);
  } else if (data.b) {
    fit(data.b);
  } else if (points.length) {
    fit(L.latLngBounds(points));
  } else if (data.u) {
    ask("").then((extent) => (extent.b ? fit(extent.b) : showFrance()), showFrance);
  } else {
    showFrance();
  }
})();
