// Keyboard shortcuts for the review queue: j/k move, x selects, a/n/r pick the decision.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll(".review-item"));
  if (!items.length) { return; }
  var current = -1;
  function focus(index) {
    if (index < 0 || index >= items.length) { return; }
    current = index;
    items[index].focus();
    items[index].scrollIntoView({block: "nearest"});
  }
  function decide(value) {
    var item = items[current];
    if (!item) { return; }
    var box = item.querySelector("input[name=ids]");
    if (!box) { return; }
    box.checked = true;
    document.getElementById("bulk-decision").value = value;
    if (value === "accept") { document.getElementById("review-form").requestSubmit(); }
    else { document.getElementById("bulk-reason").focus(); }
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var keys = {
      j: function () { focus(current + 1); },
      k: function () { focus(current - 1); },
      x: function () { var box = items[current] && items[current].querySelector("input[name=ids]"); if (box) { box.checked = !box.checked; } },
      a: function () { decide("accept"); },
      n: function () { decide("needs_info"); },
      r: function () { decide("reject"); }
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
}());
