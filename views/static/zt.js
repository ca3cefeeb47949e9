// Reply templates: choosing one fills the result box (served locally; no inline script).
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select.classList || !select.classList.contains("zt-template") || !select.value) return;
  var box = document.getElementById(select.getAttribute("data-target"));
  if (box) box.value = select.value;
});

// A print button: the browser's own print, without an inline handler.
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});
