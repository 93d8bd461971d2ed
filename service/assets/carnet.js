// Carnet's little script, for every portal page (served at <service>/assets/carnet.js):
// buttons marked data-print print the page. Pages work without it.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
