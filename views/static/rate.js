// The reason tags follow the chosen level; a kiosk left idle returns to the start.
(function () {
  document.documentElement.className += " js";
  var form = document.getElementById("rate-form");
  if (!form) return;
  var reasons = document.getElementById("reasons");
  // The tags of the chosen level appear (Haixing: on 不满意 only); hidden ones are not sent.
  function sync() {
    if (!reasons) return;
    var checked = form.querySelector("input[name=level]:checked");
    var level = checked ? checked.value : "";
    var tagged = reasons.getAttribute("data-tagged").split(" ").indexOf(level) >= 0;
    var bad = reasons.getAttribute("data-bad").split(" ").indexOf(level) >= 0;
    var shown = 0;
    Array.prototype.forEach.call(reasons.querySelectorAll("label.chip"), function (chip) {
      var on = tagged && chip.getAttribute("data-levels").split(" ").indexOf(level) >= 0;
      chip.classList.toggle("hidden", !on);
      chip.querySelector("input").disabled = !on;
      if (on) shown++;
    });
    reasons.classList.toggle("hidden", shown === 0);
    reasons.classList.toggle("bad", bad);
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
