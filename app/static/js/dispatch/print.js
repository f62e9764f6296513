// The run sheet's Print button (the page works without it: the browser's own Print does the same).
document.querySelector("[data-print]")?.addEventListener("click", () => window.print());
