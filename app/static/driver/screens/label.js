// @ts-check
// Print label: for a parcel without a label. The renderings were fetched while
// online (label-prefetch.js), so printing (4×6 page) and sending the ZPL to a thermal
// printer app (share or download) work with no signal.

import { getLabel } from "../db.js";
import { backLink, h, replace } from "../dom.js";
import { formatLabelCode } from "../labelcode.js";
import { pickupViewById } from "../outbox.js";

export async function render(root, { pickupId }, { navigate }) {
  const pickup = await pickupViewById(pickupId);
  if (!pickup) return navigate("#/");
  const label = await getLabel(pickupId);
  const urls = [];
  const back = backLink(`#/p/${pickupId}`, pickup.customer?.name || "Pickup");
  const title = h("h1", {}, "Print label");

  if (!label || (!label.svg && !label.zpl)) {
    replace(root, back, title,
      h("p", { class: "notice" }, "This label has not been downloaded yet. It downloads by itself the next time the phone has signal; tap Sync now."),
      h("p", {}, "Label code: ", h("strong", { class: "code" }, formatLabelCode(pickup.label_code)), " — you can write it on the parcel by hand."));
    return;
  }

  const children = [back, title, h("p", { class: "no-print" }, `Label ${formatLabelCode(pickup.label_code)} for ${pickup.customer?.name}.`)];
  if (label.svg) {
    const url = URL.createObjectURL(new Blob([label.svg], { type: "image/svg+xml" }));
    urls.push(url);
    children.push(h("div", { class: "label-sheet" }, h("img", { id: "label-image", src: url, alt: `Return label ${formatLabelCode(pickup.label_code)}` })));
    children.push(h("div", { class: "button-row no-print" }, h("button", { type: "button", id: "print", class: "primary big", onclick: () => window.print() }, "Print (4×6)")));
  }
  if (label.zpl) {
    const file = new File([label.zpl], `label-${pickup.label_code}.zpl`, { type: "text/plain" });
    const url = URL.createObjectURL(file);
    urls.push(url);
    const canShare = navigator.canShare && navigator.canShare({ files: [file] });
    children.push(h("div", { class: "button-row no-print" },
      canShare ? h("button", { type: "button", id: "share-zpl", class: "big", onclick: () => navigator.share({ files: [file], title: "Label" }).catch(() => {}) }, "Send to printer app (ZPL)") : null,
      h("a", { class: "button big", id: "download-zpl", href: url, download: file.name }, "Download ZPL")));
  }
  replace(root, children);
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}
