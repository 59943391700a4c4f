// Small helpers the evaluation report's pages share (static/js/evaluation/report_keys.js,
// static/js/evaluation/report_sign.js).

/** The template with each %(name)s replaced by String(values[name]) ("" when the name is missing). */
export function fmt(template, values = {}) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => (name in values ? String(values[name]) : ""));
}

/** Django's CSRF token: the page's csrfmiddlewaretoken field, else the csrftoken cookie. */
export function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (field && field.value) return field.value;
  for (const cookie of document.cookie.split(";")) {
    const [name, ...value] = cookie.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(value.join("="));
  }
  return "";
}
