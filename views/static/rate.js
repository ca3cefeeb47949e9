// The reasons appear when 不满意 is chosen; a kiosk left idle returns to the start.
(function () {
  document.documentElement.className += " js";
  var form = document.getElementById("rate-form");
  if (!form) return;
  var reasons = document.getElementById("reasons");
  function sync() {
    var bad = form.querySelector("input[name=level][value=dissatisfied]");
    if (reasons) reasons.classList.toggle("hidden", !(bad && bad.checked));
  }
  form.addEventListener("change", sync);
  sync();
  if (form.getAttribute("data-kiosk") === "1") {
    var timer, idle = function () { window.location.href = form.getAttribute("data-idle-url"); };
    var reset = function () { clearTimeout(timer); timer = setTimeout(idle, 60000); };
    ["click", "keydown", "touchstart", "input"].forEach(function (e) { document.addEventListener(e, reset); });
    reset();
  }
  form.addEventListener("submit", function () {  // a double tap sends once
    var button = form.querySelector("button[type=submit]");
    setTimeout(function () { button.disabled = true; }, 0);
  });
})();
