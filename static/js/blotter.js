// Fills blotter: newest first, a fresh fill flashes, a bust is struck through, a correction
// shows what it replaced. Rows are keyed by execId, so a replayed fill never adds a row.
import { clockTime, qty, text } from "./format.js";
import { cell, keyedRow, placeRows, setText } from "./cells.js";

const CELLS = ["time", "seq", "account", "instrument", "side", "qty", "price", "status", "source", "exec-id"];

export function createBlotter({ table, count }) {
  const body = table.tBodies[0];
  const pool = new Map();

  function render(state) {
    const fills = [...state.fills.values()].sort((a, b) =>
      (b.firstSeq ?? b.seq ?? 0) - (a.firstSeq ?? a.seq ?? 0) || String(b.time).localeCompare(String(a.time)));
    const ordered = [];
    const live = new Set();
    for (const fill of fills) {
      live.add(fill.execId);
      const row = keyedRow(pool, fill.execId, CELLS, (tr) => { tr.dataset.execId = fill.execId; });
      setText(cell(row, "time"), clockTime(fill.time));
      setText(cell(row, "seq"), text(fill.seq));
      setText(cell(row, "account"), fill.account);
      setText(cell(row, "instrument"), fill.instrument);
      const side = cell(row, "side");
      setText(side, fill.side === "buy" ? "BUY" : fill.side === "sell" ? "SELL" : null);
      side.dataset.side = fill.side ?? "";
      const corrected = fill.status === "corrected";
      setText(cell(row, "qty"), corrected && Number.isInteger(fill.origQty) && fill.origQty !== fill.qty
        ? `${qty(fill.qty)} (was ${fill.origQty})` : qty(fill.qty));
      setText(cell(row, "price"), corrected && fill.origPrice && fill.origPrice !== fill.price
        ? `${text(fill.price)} (was ${fill.origPrice})` : text(fill.price));
      setText(cell(row, "status"), fill.status === "busted" ? "BUSTED" : corrected ? "CORRECTED" : text(fill.status));
      setText(cell(row, "source"), text(fill.source));
      setText(cell(row, "exec-id"), fill.execId);
      row.classList.toggle("busted", fill.status === "busted");
      row.classList.toggle("corrected", corrected);
      if (state.freshFills.has(fill.execId)) {
        // Alternating two identical animations restarts the flash without forcing a layout.
        const next = row.classList.contains("fresh-a") ? "fresh-b" : "fresh-a";
        row.classList.remove("fresh-a", "fresh-b");
        row.classList.add(next);
      }
      ordered.push(row);
    }
    state.freshFills.clear();
    for (const key of pool.keys()) if (!live.has(key)) pool.delete(key);
    placeRows(body, ordered);
    setText(count, `${fills.length} shown · cap ${state.blotterCap}`);
  }

  return { render };
}
