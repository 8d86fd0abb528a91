// Move focus to the error summary when a page comes back with errors, so keyboard and
// screen-reader users hear what went wrong first (the summary links to each field).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
});

// Merchant filter: suggest merchants (code or name) from the server as the user types, so the
// page never lists every merchant. Without JavaScript the field still takes a merchant code.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!input.value.trim()) { return; }
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(input.value), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {results: []}; })
          .then(function (data) {
            list.replaceChildren.apply(list, data.results.map(function (m) {
              var option = document.createElement("option");
              option.value = m.code;
              option.label = m.name;
              return option;
            }));
          });
      }, 200);
    });
  });
});
