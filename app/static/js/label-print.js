// The print page's one button (no inline scripts: the CSP forbids them).
document.getElementById("print-label")?.addEventListener("click", () => window.print());
