/* ごみ収集の前日通知: the service worker that shows the reminder `gis garbage remind` pushes, and opens the garbage
   page on a tap. Served at /garbage/sw.js (with Service-Worker-Allowed: /) and /static/map/garbage-sw.js.
   The payload is JSON: {title, body, group, day, categories, tag}. No dependencies. */
"use strict";

// The service's root (it may sit under a path prefix): the part of this script's path before its own location.
var ROOT = self.location.pathname.replace(/(garbage\/sw\.js|static\/map\/garbage-sw\.js)$/, "");

function pageUrl(group) {
  var url = new URL(ROOT + "map/garbage", self.location.origin);
  if (group) url.searchParams.set("group", group);
  return url.href;
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (e) {
      data = { body: event.data.text() };
    }
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "ごみ収集のお知らせ", {
      body: data.body || "",
      tag: data.tag || "garbage",
      lang: "ja",
      data: { url: pageUrl(typeof data.group === "string" ? data.group : "") },
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || pageUrl("");
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow(url);
    })
  );
});
