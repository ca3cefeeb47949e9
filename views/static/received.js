// The query code copied with one tap (the text itself can also be selected by hand).
(function () {
  var button = document.getElementById("copy-code");
  if (!button || !navigator.clipboard) return;
  button.parentNode.classList.remove("nojs-hidden");
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(button.getAttribute("data-code")).then(function () {
      button.textContent = button.getAttribute("data-done");
    });
  });
})();
