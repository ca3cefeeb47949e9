// Flask-Admin without inline script or eval: our Content-Security-Policy (app/headers.py) refuses
// onclick="…", javascript: URLs and new Function(), so what Flask-Admin did with them is done here.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a");
  if (!link) return;
  // "javascript:void(0)" means "do nothing"; following it would only log a refusal.
  if ((link.getAttribute("href") || "").indexOf("javascript:") === 0) event.preventDefault();
  // The bulk actions of a list (admin/actions.html): Flask-Admin's actions.js does the work.
  var action = link.getAttribute("data-model-action");
  if (action && window.modelActions) window.modelActions.execute(action);
}, true);  // capture: Bootstrap's dropdowns stop the click before it bubbles up

// x-editable (the editable cells of a list) reads its JSON data attributes with new Function();
// JSON.parse reads Flask-Admin's json.dumps the same way. Runs before form.js sets the cells up.
if (window.jQuery) {
  jQuery(function ($) {
    if (!$.fn.editableutils) return;
    // An empty editable cell says so in the page's language (x-editable's own word is English).
    var empty = document.querySelector('meta[name="zt-empty-cell"]');
    if (empty && $.fn.editable) $.fn.editable.defaults.emptytext = empty.content;
    $.fn.editableutils.tryParseJson = function (text, safe) {
      if (typeof text !== "string" || !/^[\{\[].*[\}\]]$/.test(text)) return text;
      try {
        return JSON.parse(text);
      } catch (error) {
        if (safe) return text;
        throw error;
      }
    };
  });
}
