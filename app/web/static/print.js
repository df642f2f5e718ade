// "Print this page": the button is hidden until this script runs, so without JavaScript the
// page shows only the hint to use the browser's own print command. The print stylesheet
// (casework.css, @media print) decides what is printed.
for (const button of document.querySelectorAll("[data-print-page]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
  const hint = button.parentElement?.querySelector("[data-print-hint]");
  if (hint) hint.hidden = true;
}
