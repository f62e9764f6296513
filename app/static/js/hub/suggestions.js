// @ts-check
// The receiving form's suggestions follow the grade the clerk gives: each disposition select
// carries the rules' suggestion for every grade (computed by the server, which matches the rules
// in one place), so a corrected grade brings its own suggestion and the rule behind it. A
// disposition the clerk picked by hand is theirs and stays; one still on the old suggestion
// moves with the grade. Without this script the form works as before: the clerk chooses.

for (const grade of /** @type {NodeListOf<HTMLSelectElement>} */ (document.querySelectorAll("select[data-suggests]"))) {
  const disposition = /** @type {HTMLSelectElement | null} */ (document.getElementById(grade.dataset.suggests || ""));
  const rule = disposition ? document.getElementById(disposition.dataset.rule || "") : null;
  if (!disposition || !rule) continue;
  /** @type {Record<string, {disposition: string, because: string} | null>} */
  const byGrade = JSON.parse(disposition.dataset.suggestions || "{}");
  let suggested = byGrade[grade.value]?.disposition ?? null;
  // Picked by hand: a choice other than what the rules suggested at the time (setting .value below fires no change).
  let handPicked = disposition.value !== "" && disposition.value !== suggested;
  disposition.addEventListener("change", () => { handPicked = disposition.value !== "" && disposition.value !== suggested; });

  grade.addEventListener("change", () => {
    const next = byGrade[grade.value] || null;
    if (next && !handPicked) disposition.value = next.disposition;
    suggested = next ? next.disposition : null;
    rule.textContent = next ? `Suggested: ${next.disposition.replace(/_/g, " ")} — ${next.because}` : "";
    rule.hidden = !next;
  });
}
