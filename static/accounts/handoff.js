// Send the handoff form on at once; without JavaScript its button does the same.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("handoff");
  if (form) form.submit();
});
