/* Irreversible actions ask first: a form with data-confirm="…" opens the confirmation dialog
   instead of submitting; only "yes" submits it (with the button that was pressed). Cancel has
   the focus, so Enter or Escape never confirms by accident.
   data-confirm-if="name=value" asks only when that field has that value (one choice of a select);
   data-confirm-no="…" names the button that backs out when "Cancel" would read like the action;
   "{name}" in the message is replaced by the field's current value (an amount typed in the form; a choice reads as its label). */
function confirmMessage(form) {
  const message = form.dataset.confirm;
  if (!message) return "";
  const condition = form.dataset.confirmIf;
  if (condition) {
    const [name, value] = condition.split("=");
    if (!form.elements[name] || form.elements[name].value !== value) return "";
  }
  const money = form.dataset.confirmFormat === "money";
  return message.replace(/\{(\w+)\}/g, (token, name) => {
    const field = form.elements[name];
    if (!field) return token;
    if (field.tagName === "SELECT") return field.selectedOptions[0] ? field.selectedOptions[0].textContent.trim() : "";
    const value = field.value.trim();
    return money ? formatMoney(value) : value;
  });
}

/* data-confirm-format="money": an amount reads as the pages show it, grouped with two decimals in the
   page's language ("5000" -> "5,000.00"); what is not a number is shown as typed. */
function formatMoney(value) {
  const plain = value.replace(/[,\s]/g, "");
  if (!/^-?\d+(\.\d+)?$/.test(plain)) return value;
  const lang = document.documentElement.lang || undefined;
  try {
    return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(plain));
  } catch (e) {
    return new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(plain));
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = confirmMessage(form);
  const dialog = document.getElementById("confirm-dialog");
  if (!message || !dialog || typeof dialog.showModal !== "function" || form.dataset.confirmed === "1") return;
  event.preventDefault();
  const submitter = event.submitter;
  dialog.querySelector("#confirm-message").textContent = message;
  const yes = dialog.querySelector("button[value=yes]");
  yes.textContent = form.dataset.confirmYes || yes.dataset.defaultLabel;
  const no = dialog.querySelector("button[value=no]");
  no.textContent = form.dataset.confirmNo || no.dataset.defaultLabel;
  dialog.returnValue = "";
  dialog.addEventListener(
    "close",
    () => {
      if (dialog.returnValue === "yes") {
        form.dataset.confirmed = "1";
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      } else if (submitter) {
        submitter.focus();
      }
    },
    { once: true },
  );
  dialog.showModal();
  dialog.querySelector("button[value=no]").focus();
});
