// Writing values into table cells: money keeps the exact server string in data-value (and on
// hover) beside its decorated text in dollars and cents, and a direction for colour (the text
// already carries sign and arrow).
import { MONEY_SCALE, parseDecimal } from "./decimal.js";
import { UNKNOWN, direction, exactMoney, moneyText } from "./format.js";

export function setText(cell, text) {
  const value = text === null || text === undefined ? UNKNOWN : String(text);
  if (cell.textContent !== value) cell.textContent = value;
}

export function setMoney(cell, text) {
  setText(cell, moneyText(text));
  const exact = typeof text === "string" ? text : "";
  if (cell.dataset.value !== exact) cell.dataset.value = exact;
  const dir = direction(text) ?? "";
  if (cell.dataset.direction !== dir) cell.dataset.direction = dir;
  // Cents on screen, the exact figure on hover.
  const units = parseDecimal(exact, MONEY_SCALE);
  const title = units === null ? "" : `exact: ${exactMoney(units)}`;
  if (cell.title !== title) cell.title = title;
}

/** A row keyed in a tbody, created with the given cell classes on first use. */
export function keyedRow(pool, key, cellClasses, setup) {
  let row = pool.get(key);
  if (!row) {
    row = document.createElement("tr");
    for (const name of cellClasses) {
      const cell = document.createElement(name.startsWith("th:") ? "th" : "td");
      const className = name.replace(/^th:/, "");
      cell.className = className;
      if (cell.tagName === "TH") cell.scope = "row";
      row.append(cell);
    }
    setup?.(row);
    pool.set(key, row);
  }
  return row;
}

export function cell(row, className) {
  return row.querySelector(`.${className}`);
}

/** Puts rows into a tbody in order, touching the DOM only when the order changed. */
export function placeRows(body, ordered) {
  const current = body.children;
  let same = current.length === ordered.length;
  for (let index = 0; same && index < ordered.length; index += 1) same = current[index] === ordered[index];
  if (!same) body.replaceChildren(...ordered);
}

/**
 * Like placeRows for lists that mostly grow at the top: moves only the rows out of place, so a
 * new fill costs one insertion rather than re-inserting every row.
 */
export function placeRowsIncrementally(body, ordered) {
  const wanted = new Set(ordered);
  for (const stray of [...body.children]) if (!wanted.has(stray)) stray.remove();
  for (let index = 0; index < ordered.length; index += 1) {
    const current = body.children[index] ?? null;
    if (current !== ordered[index]) body.insertBefore(ordered[index], current);
  }
}
