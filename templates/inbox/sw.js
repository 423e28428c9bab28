// The inbox's service worker (inbox.views.service_worker): shows the pushes inbox.push sends, and opens their
// thread when one is tapped. It caches nothing: the inbox is always fetched fresh.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// Only a path on this very host is ever opened, whatever a push says.
function safePath(path) {
  return typeof path === "string" && path.startsWith("/") && !path.startsWith("//") && !path.includes("\\")
    ? path
    : "/inbox/";
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const title = typeof data.title === "string" && data.title ? data.title : "New activity in your inbox";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === "string" ? data.body : "",
      tag: typeof data.tag === "string" ? data.tag : undefined,
      icon: "/brand/app-icon-192.png",
      data: { path: safePath(data.path) },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(safePath(event.notification.data && event.notification.data.path), self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => w.url === url.href);
      if (open) return open.focus();
      const any = windows.find((w) => "navigate" in w);
      if (any) return any.navigate(url.href).then((w) => (w ? w.focus() : self.clients.openWindow(url.href)));
      return self.clients.openWindow(url.href);
    })
  );
});
