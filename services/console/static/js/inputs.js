// A form field with its label around it: the label's words in the interface's language, the
// control a text input (or a textarea, given ``rows``).
import { h } from "./dom.js";
import { t } from "./i18n.js";

export function input(id, labelKey, props = {}) {
  const field = props.rows ? h("textarea", { id, name: id, ...props }) : h("input", { id, name: id, type: "text", ...props });
  return h("label", { for: id }, t(labelKey), " ", field);
}
