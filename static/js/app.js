/* What every page does with a little script (the CSP is script-src 'self': no inline scripts; pages say what
   they want through data attributes). Everything here is an improvement: without it every page still works. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- Menus (<details class="menu">, the account menu): Escape or a click elsewhere closes them. ---------
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open], details.account[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.menu, details.account"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.activeElement && document.activeElement.closest("details[open]");
    closeMenus(null);
    if (open) open.querySelector("summary").focus();
  });

  // --- Copy buttons: <button data-copy="#id-of-the-text">. ------------------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain http (a development host): the older way, through a selected, off-screen text area.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy refused"));
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    event.preventDefault();
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var label = button.querySelector("[data-copy-label]") || button;
    var before = label.textContent;
    copyText(source.innerText.trim()).then(function () {
      label.textContent = "Copied";
      button.classList.add("copied");
    }, function () {
      label.textContent = "Select and copy";
    }).then(function () {
      window.setTimeout(function () { label.textContent = before; button.classList.remove("copied"); }, 2000);
    });
  });
})();

/* Business hours (templates/ui/hours.html): a day switched on gets usual hours to start from; "+ Break" shows
   a second span for a split shift, "Remove" empties and hides it. Without this script both spans show. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var toggle = event.target.closest("[data-hours-toggle]");
    if (!toggle || !toggle.checked) return;
    var times = toggle.closest("[data-hours-day]").querySelectorAll(".hours-span:first-child input[type=time]");
    if (times.length === 2 && !times[0].value && !times[1].value) { times[0].value = "09:00"; times[1].value = "17:00"; }
  });
  document.addEventListener("click", function (event) {
    var split = event.target.closest("[data-hours-split]");
    var unsplit = event.target.closest("[data-hours-unsplit]");
    if (!split && !unsplit) return;
    event.preventDefault();
    var day = (split || unsplit).closest("[data-hours-day]");
    var second = day.querySelectorAll(".hours-second input[type=time]");
    if (split) {
      day.classList.add("is-split");
      var first = day.querySelectorAll(".hours-span:first-child input[type=time]");
      if (!second[0].value && first[1].value && first[1].value < "13:00") { second[0].value = "13:00"; second[1].value = "17:00"; }
      second[0].focus();
    } else {
      second.forEach(function (input) { input.value = ""; });
      day.classList.remove("is-split");
      day.querySelector("[data-hours-split]").focus();
    }
  });
})();
