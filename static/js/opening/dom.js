// Small helpers the live rooms' pages share (static/js/opening/room.js, static/js/evaluation/room.js).

/** The template with each %(name)s replaced by values[name] ("" when missing or null). */
export function fmt(template, values = {}) {
  return String(template || "").replace(/%\((\w+)\)s/g, (_, name) => (values[name] ?? "") + "");
}

/** A new element: attributes (className, dataset, true for a bare attribute; null/undefined/false
 * left out) and children (nodes or text; null/undefined/false left out; arrays flattened). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
