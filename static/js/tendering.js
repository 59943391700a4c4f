// Small helpers of the tendering pages, loaded as a static file. The pages carry no inline
// script, so they are written to allow a strict Content-Security-Policy (none is configured yet).
(function () {
  "use strict";

  // Ask before an irreversible action: <form data-confirm="..."> or <button data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // The lots formset: "add a lot" clones the empty form and bumps TOTAL_FORMS.
  document.querySelectorAll(".lot-formset").forEach(function (box) {
    var prefix = box.dataset.prefix;
    var total = box.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var template = box.querySelector("template.lot-template");
    var list = box.querySelector(".lot-forms");
    var add = box.querySelector(".add-lot");
    if (!total || !template || !list || !add) { return; }
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
    });
  });
})();
