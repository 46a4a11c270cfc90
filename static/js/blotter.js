// Fills blotter: newest first, a fresh fill flashes, a bust is struck through, a correction
// shows what it replaced. Rows are keyed by execId, so a replayed fill never adds a row.
// Only the rows in (and near) view are in the DOM: laying out hundreds of table rows on every
// frame is what freezes a page under thousands of fills a second.
import { clockTime, qty, text } from "./format.js";
import { cell, keyedRow, placeRowsIncrementally, setText } from "./cells.js";
import { fillOrder as orderKey } from "./state.js";

const FLASH_AT_MOST = 20;
const ROW_HEIGHT = 21;      // px; fixed by the stylesheet (#blotter tbody tr)
const WINDOW_AT_LEAST = 60; // rows always rendered from the top of the window
const OVERSCAN = 15;

const CELLS = ["time", "seq", "account", "instrument", "side", "qty", "price", "status", "source", "exec-id"];

export function createBlotter({ table, scroller, count }) {
  const body = table.tBodies[0];
  const pool = new Map();
  const emptyRow = spacer();
  emptyRow.className = "empty-note";
  emptyRow.removeAttribute("aria-hidden");
  emptyRow.firstChild.className = "empty";
  emptyRow.firstChild.textContent = "No fills yet";
  const topSpacer = spacer();
  const bottomSpacer = spacer();
  let newestShown = null; // order key of the newest fill on the last render
  // Scroll position and height are cached from events: reading them while rendering would force
  // a layout of everything the frame has already changed.
  let scrollTop = 0;
  let viewportHeight = 600;
  scroller.addEventListener("scroll", () => { scrollTop = scroller.scrollTop; }, { passive: true });
  new ResizeObserver(([entry]) => { viewportHeight = entry.contentRect.height; }).observe(scroller);

  function spacer() {
    const tr = document.createElement("tr");
    tr.className = "spacer";
    tr.setAttribute("aria-hidden", "true");
    const td = document.createElement("td");
    td.colSpan = CELLS.length;
    tr.append(td);
    return tr;
  }

  function setSpacer(tr, rows) {
    const height = `${rows * ROW_HEIGHT}px`;
    if (tr.style.height !== height) tr.style.height = height;
    tr.hidden = rows === 0;
  }

  const rendered = new WeakMap(); // row -> the fill object it shows (state replaces it on change)

  function fillRow(row, fill) {
    setText(cell(row, "time"), clockTime(fill.time));
    setText(cell(row, "seq"), text(fill.seq));
    setText(cell(row, "account"), fill.account);
    setText(cell(row, "instrument"), fill.instrument);
    const side = cell(row, "side");
    setText(side, fill.side === "buy" ? "BUY" : fill.side === "sell" ? "SELL" : null);
    side.dataset.side = fill.side ?? "";
    const corrected = fill.status === "corrected";
    setText(cell(row, "qty"), qty(fill.qty));
    setText(cell(row, "price"), text(fill.price));
    const status = cell(row, "status");
    if (corrected) {
      const was = `${Number.isInteger(fill.origQty) ? fill.origQty : "—"}@${fill.origPrice ?? "—"}`;
      setText(status, `CORRECTED was ${was}`);
      status.title = `corrected from ${was} to ${qty(fill.qty)} @ ${text(fill.price)}`;
    } else {
      setText(status, fill.status === "busted" ? "BUSTED" : text(fill.status));
      status.title = "";
    }
    setText(cell(row, "source"), text(fill.source));
    setText(cell(row, "exec-id"), fill.execId);
    row.classList.toggle("busted", fill.status === "busted");
    row.classList.toggle("corrected", corrected);
  }

  function render(state) {
    const fills = [...state.fills.values()].sort((a, b) =>
      orderKey(b) - orderKey(a) || String(b.time).localeCompare(String(a.time)));
    // A reader scrolled down keeps the rows under the eyes when new fills arrive above them.
    if (scrollTop > 0 && newestShown !== null) {
      let added = 0;
      while (added < fills.length && orderKey(fills[added]) > newestShown) added += 1;
      if (added > 0) {
        scrollTop += added * ROW_HEIGHT;
        scroller.scrollTop = scrollTop;
      }
    }
    newestShown = fills.length > 0 ? orderKey(fills[0]) : null;
    const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil(viewportHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(fills.length, Math.max(first + visible, WINDOW_AT_LEAST));
    // A burst of fills flashes nothing: a screen full of flashes says less than none.
    const flash = state.freshFills.size <= FLASH_AT_MOST;
    const ordered = [];
    const shown = new Set();
    for (let index = first; index < last; index += 1) {
      const fill = fills[index];
      const row = keyedRow(pool, fill.execId, CELLS, (tr) => { tr.dataset.execId = fill.execId; });
      if (row.classList.contains("alt") !== (index % 2 === 1)) row.classList.toggle("alt");
      shown.add(fill.execId);
      if (rendered.get(row) !== fill) {
        fillRow(row, fill);
        rendered.set(row, fill);
      }
      if (flash && state.freshFills.has(fill.execId)) {
        // Alternating two identical animations restarts the flash without forcing a layout.
        const next = row.classList.contains("fresh-a") ? "fresh-b" : "fresh-a";
        row.classList.remove("fresh-a", "fresh-b");
        row.classList.add(next);
      }
      ordered.push(row);
    }
    state.freshFills.clear();
    for (const [key, row] of pool) {
      if (!shown.has(key)) {
        row.remove();
        pool.delete(key);
      }
    }
    setSpacer(topSpacer, first);
    setSpacer(bottomSpacer, fills.length - last);
    placeRowsIncrementally(body, fills.length === 0 ? [emptyRow] : [topSpacer, ...ordered, bottomSpacer]);
    setText(count, `${fills.length} fills · cap ${state.blotterCap}`);
  }

  return { render };
}
