// A form with data-confirm asks before it is sent (no inline script: the CSP refuses onclick="…").
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
