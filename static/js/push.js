/* Notifications on this device (templates/inbox/notifications.html): register the inbox's service worker,
   subscribe with the server's VAPID key and hand the subscription to the server, or undo all that. The page
   says what happened in #push-status; without this script (or on a browser without push) it says so. */
(function () {
  "use strict";
  var section = document.getElementById("push-device");
  if (!section) return;
  var button = section.querySelector("[data-push-on]");
  var off = section.querySelector("[data-push-off]");
  var status = document.getElementById("push-status");
  var csrf = section.querySelector("input[name=csrfmiddlewaretoken]").value;

  function say(text) {
    status.textContent = text;
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function post(body) {
    return fetch(section.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (response.ok) return response.status === 204 ? {} : response.json();
      return response.json().then(
        function (answer) { throw new Error(answer.error || "The server refused it."); },
        function () { throw new Error("The server refused it (" + response.status + ")."); }
      );
    });
  }

  function show(subscribed) {
    button.hidden = subscribed;
    off.hidden = !subscribed;
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.isSecureContext) {
    say("This browser cannot get notifications from here. On an iPhone, add the inbox to your Home Screen " +
        "first (Share, then Add to Home Screen) and open it from there.");
    button.disabled = true;
    return;
  }

  var ready = navigator.serviceWorker.register(section.dataset.worker, { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  });
  ready.then(function (registration) {
    return registration.pushManager.getSubscription();
  }).then(function (subscription) {
    show(Boolean(subscription));
    if (subscription) say("Notifications are on for this device.");
  }).catch(function () {});

  button.addEventListener("click", function () {
    button.disabled = true;
    say("Asking your browser…");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("Notifications are blocked for this site in your browser's settings.");
      return ready;
    }).then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(section.dataset.key),
      });
    }).then(function (subscription) {
      return post(subscription.toJSON ? subscription.toJSON() : subscription);
    }).then(function (answer) {
      show(true);
      say("Notifications are on for this device (" + answer.device + "). Reload to see it in your list.");
    }).catch(function (error) {
      say(error.message || "Could not turn notifications on.");
    }).then(function () {
      button.disabled = false;
    });
  });

  off.addEventListener("click", function () {
    ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return null;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () { return post({ forget: endpoint }); });
    }).then(function () {
      show(false);
      say("Notifications are off for this device.");
    }).catch(function (error) {
      say(error.message || "Could not turn notifications off.");
    });
  });
})();
