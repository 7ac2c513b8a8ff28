// A live character counter for text areas with data-counter="<max>" (the server refuses longer text).
(function () {
  "use strict";
  var fields = document.querySelectorAll("textarea[data-counter]");
  Array.prototype.forEach.call(fields, function (field) {
    var max = parseInt(field.getAttribute("data-counter"), 10);
    var output = document.getElementById(field.id + "-counter");
    if (!output || !max) { return; }
    var template = output.getAttribute("data-template") || "%(count)s / %(max)s";
    function update() {
      var count = field.value.replace(/\r\n/g, "\n").trim().length;
      output.textContent = template.replace("%(count)s", count).replace("%(max)s", max);
      output.classList.toggle("error", count > max);
    }
    output.hidden = false;
    field.addEventListener("input", update);
    update();
  });
}());
