// @ts-check
// Label codes, checked on the phone exactly as app/labels/codes.py checks them on
// the server: ten symbols from a 31-letter alphabet, the last one a weighted
// check (weights 1..10, sum 0 mod 31), so a typo is caught before any lookup.

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY";
const CODE_LENGTH = 10;
const VALUE = new Map([...ALPHABET].map((symbol, value) => [symbol, value]));

// Crockford's forgiving reading: O is 0, I and L are 1; spaces and dashes drop.
export function normaliseLabelCode(text) {
  let code = String(text || "").trim();
  // A scanned QR might carry a prefix or a URL-like form; the code is the last part.
  const cut = Math.max(code.lastIndexOf(":"), code.lastIndexOf("/"));
  if (cut >= 0) code = code.slice(cut + 1);
  return code.replace(/[\s\-_.]+/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
}

export function isValidLabelCode(code) {
  if (code.length !== CODE_LENGTH) return false;
  let total = 0;
  for (let i = 0; i < code.length; i += 1) {
    const value = VALUE.get(code[i]);
    if (value === undefined) return false;
    total += (i + 1) * value;
  }
  return total % 31 === 0;
}

export function formatLabelCode(code) {
  return code && code.length === CODE_LENGTH ? `${code.slice(0, 5)}-${code.slice(5)}` : code || "";
}

// Why a typed code is not a label code, in words a driver can act on.
export function explainInvalid(code) {
  if (!code) return "Type or scan the code printed under the QR on the label.";
  const bad = [...code].filter((symbol) => !VALUE.has(symbol));
  if (bad.length) return `“${bad.join("")}” is not used in label codes. Check the label again.`;
  if (code.length !== CODE_LENGTH) return `A label code has ${CODE_LENGTH} characters; this has ${code.length}.`;
  return "This code has a typo (its check character does not match). Check each character again.";
}
