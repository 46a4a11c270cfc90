// Dark by default, light on request; the choice outlives the tab.
const THEME_KEY = "ladderwire.theme";

export function setUpThemeToggle(button) {
  function apply(theme) {
    document.documentElement.dataset.theme = theme;
    button.textContent = theme === "dark" ? "Light" : "Dark";
  }
  button.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    try { localStorage.setItem(THEME_KEY, next); } catch { /* storage off: this page only */ }
    apply(next);
  });
  let saved = null;
  try { saved = localStorage.getItem(THEME_KEY); } catch { /* storage off */ }
  apply(saved === "light" ? "light" : "dark");
}
