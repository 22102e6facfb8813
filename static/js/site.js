// Every page: after a failed submit, move the focus to the first field in error (or the
// form's own error), so keyboard and screen-reader users land on what needs fixing.
// A static file, not an inline script: the Content-Security-Policy allows no inline code.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const target = document.querySelector(
    "form [aria-invalid='true'], form .form-error, .error-summary"
  );
  if (!target) return;
  if (!target.matches("input, select, textarea, button, a[href]")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
});
