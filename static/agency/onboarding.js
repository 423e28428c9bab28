// The onboarding wizard's progress bar: poll the provisioning task's progress until it is done or failed,
// then reload once so the page shows what needs the database (or the reason it failed and a retry button).
(function () {
  "use strict";
  const box = document.querySelector(".provisioning[data-progress-url]");
  if (!box || ["live", "paused", "failed"].includes(box.dataset.status)) return;
  const bar = box.querySelector("progress");
  const label = box.querySelector(".provisioning-label");
  async function poll() {
    try {
      const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const state = await response.json();
        if (bar) bar.value = state.progress;
        if (label) label.textContent = state.ready ? "Ready" : state.label;
        if (state.ready || state.status === "failed") {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A dropped request is retried on the next tick.
    }
    window.setTimeout(poll, 1000);
  }
  window.setTimeout(poll, 500);
})();

// The texts step: the previews follow what is typed (the server renders them, as a real text would be).
(function () {
  "use strict";
  const form = document.querySelector("form.texts-form[data-preview-url]");
  if (!form) return;
  let timer = null;
  async function refresh() {
    const data = new FormData(form);
    data.set("action", "preview");
    try {
      const response = await fetch(form.dataset.previewUrl, { method: "POST", body: data, headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const previews = await response.json();
      for (const box of form.querySelectorAll("[data-preview-for]")) {
        const text = previews[box.dataset.previewFor];
        box.hidden = !text;
        box.querySelector(".bubble").textContent = text || "";
      }
    } catch (error) {
      // The Preview button still works without this.
    }
  }
  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  });
})();
