// Draws the map described by the JSON block #map-data (built by geo/maps.py) into #map.
//
// Shop names and addresses come from shops' own files: they are only ever set with textContent
// or as attribute values, never parsed as HTML, so no name can inject markup or script.
// Payload keys: t tile URL ("" = no tiles), a attribution (trusted HTML from the configuration),
// c centre or null (fit everything), r reader position or null, k cluster markers,
// s lines shared by several markers, m markers as [lat, lon, title, [line or index into s], url?].
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

  function popupContent(title, lines, url) {
    const root = document.createElement("div");
    root.className = "map-popup";
    root.appendChild(paragraph(title, "map-popup-title"));
    lines.forEach((line) => {
      const text = typeof line === "number" ? data.s[line] : line;
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

  // maxZoom on the map itself, not only on the tiles: clustering needs it, and offline there are
  // no tiles. Readers who asked their system for less motion get no fades or zoom animations.
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const map = L.map(container, {
    scrollWheelZoom: false, maxZoom: 19,
    fadeAnimation: !still, zoomAnimation: !still, markerZoomAnimation: !still,
  });
  if (data.t) {
    L.tileLayer(data.t, { attribution: data.a }).addTo(map);
  }

  const group = data.k && L.markerClusterGroup
    ? L.markerClusterGroup({ showCoverageOnHover: false, animate: !still })
    : L.featureGroup();
  const points = [];
  data.m.forEach(([lat, lon, title, lines, url]) => {
    points.push([lat, lon]);
    // alt and title are set as attributes by Leaflet: plain text, and what a screen reader says.
    L.marker([lat, lon], { alt: title, title: title })
      .bindPopup(() => popupContent(title, lines, url))
      .addTo(group);
  });
  group.addTo(map);

  if (data.r) {
    points.push(data.r);
    L.circleMarker(data.r, { radius: 8, color: "#fff", weight: 2, fillColor: "#8a2c0d",
                             fillOpacity: 1, className: "map-reader" })
      .bindPopup(() => popupContent(labels.readerLabel || "", [], null))
      .addTo(map);
  }

  if (data.c) {
    map.setView(data.c, 13);
  } else if (points.length) {
    map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 15 });
  } else {
    // Nothing to show: metropolitan France, rather than an empty world at zoom 0.
    map.setView([46.6, 2.4], 5);
  }
})();
