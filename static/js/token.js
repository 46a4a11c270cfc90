// The access token: kept in this tab's sessionStorage only (gone when the tab closes), entered in
// the header form.
const TOKEN_KEY = "ladderwire.token";

export function currentToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/** Wires the form; onChange(hasToken) runs after the token was set or cleared. */
export function setUpTokenForm({ form, input, onChange }) {
  input.placeholder = currentToken() ? "set" : "none";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage off: nothing to keep it in
    }
    input.value = "";
    input.placeholder = value ? "set" : "none";
    onChange(Boolean(value));
  });
}
