// Line numbers for a code textarea (the procedure text): a gutter that scrolls with the text, each line
// with an error marked, and the error list's links select their line. Without JS: a plain textarea.
(function () {
  "use strict";
  document.querySelectorAll(".zt-lines").forEach(function (box) {
    var text = document.getElementById(box.getAttribute("data-for"));
    if (!text) return;
    // The numbers sit in an inner layer moved with the text, so a long file never makes the box taller.
    var outer = document.createElement("div"), gutter = document.createElement("div");
    outer.className = "zt-gutter";
    outer.setAttribute("aria-hidden", "true");
    outer.appendChild(gutter);
    box.insertBefore(outer, text);
    box.classList.add("zt-lines-on");

    // The errors by line, from the list above the text (each link carries its line and column).
    var links = document.querySelectorAll(".zt-problem-line[data-line]");
    var errors = {};
    links.forEach(function (link) {
      var line = +link.getAttribute("data-line");
      var said = link.parentNode.textContent.replace(/\s+/g, " ").trim();
      errors[line] = errors[line] ? errors[line] + "\n" + said : said;
    });

    var count = 0, current = 0;
    function draw() {
      var lines = text.value.split("\n").length;
      if (lines === count) return;
      count = lines;
      var html = [];
      for (var n = 1; n <= lines; n++) {
        html.push('<div data-line="' + n + '"' + (errors[n] ? ' class="zt-gutter-error"' : "") + ">" + n + "</div>");
      }
      html.push("<div>&nbsp;</div>");  // room for the textarea's horizontal scroll bar
      gutter.innerHTML = html.join("");
      outer.style.width = (String(lines).length + 3) + "ch";
      gutter.querySelectorAll(".zt-gutter-error").forEach(function (mark) {
        mark.title = errors[+mark.getAttribute("data-line")];
      });
      mark(current);
      sync();
    }
    function sync() { gutter.style.transform = "translateY(" + (-text.scrollTop) + "px)"; }
    function mark(line) {
      var old = gutter.querySelector(".zt-gutter-current");
      if (old) old.classList.remove("zt-gutter-current");
      var row = gutter.querySelector('[data-line="' + line + '"]');
      if (row) row.classList.add("zt-gutter-current");
      current = line;
    }
    function lineHeight() {
      return parseFloat(getComputedStyle(text).lineHeight) || 20;
    }
    // Select the whole line and scroll it to a third of the box, where the eye looks first.
    function jump(line, col, quietly) {
      var rows = text.value.split("\n");
      line = Math.max(1, Math.min(line, rows.length));
      var start = 0;
      for (var i = 0; i < line - 1; i++) start += rows[i].length + 1;
      if (!quietly) {  // on arrival only show the line: the list of errors stays where the eye is
        text.focus({preventScroll: true});
        text.setSelectionRange(start + Math.max(0, Math.min((col || 1) - 1, rows[line - 1].length)),
                               start + rows[line - 1].length);
        box.scrollIntoView({block: "nearest"});
      }
      text.scrollTop = Math.max(0, (line - 1) * lineHeight() - text.clientHeight / 3);
      mark(line);
      sync();
    }
    function caretLine() {
      return text.value.slice(0, text.selectionStart).split("\n").length;
    }

    links.forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        jump(+link.getAttribute("data-line"), +link.getAttribute("data-col"));
      });
    });
    outer.addEventListener("click", function (event) {
      var row = event.target.closest("[data-line]");
      if (row) jump(+row.getAttribute("data-line"), 1);
    });
    text.addEventListener("scroll", sync);
    text.addEventListener("input", draw);
    ["keyup", "click"].forEach(function (name) {
      text.addEventListener(name, function () { mark(caretLine()); });
    });
    // Resizing the textarea changes its height; the gutter follows it (flex stretches it).
    draw();
    if (links.length) jump(+links[0].getAttribute("data-line"), +links[0].getAttribute("data-col"), true);
  });
})();
