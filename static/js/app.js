// Move focus to the error summary when a page comes back with errors, so keyboard and
// screen-reader users hear what went wrong first (the summary links to each field).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
});
