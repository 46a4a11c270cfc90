// Positions table: one row per account × instrument, as the server computed it.
import { clockTime, qty, signedDecimal, signedQty, text } from "./format.js";
import { cell, keyedRow, placeRows, setMoney, setText } from "./cells.js";
import { averageLabel } from "./price-format.js";
import { positionKey } from "./state.js";

const CELLS = ["th:account", "instrument", "sod", "bought", "sold", "net", "avg", "mark", "realized", "unrealized", "total", "dv01", "last-fill"];

export function createPositionsTable(table) {
  const body = table.tBodies[0];
  const pool = new Map();

  function render(state) {
    const lines = [...state.positions.values()].sort((a, b) =>
      a.account.localeCompare(b.account) || a.instrument.localeCompare(b.instrument));
    const ordered = [];
    const live = new Set();
    for (const line of lines) {
      const key = positionKey(line.account, line.instrument);
      live.add(key);
      const row = keyedRow(pool, key, CELLS, (tr) => {
        tr.dataset.account = line.account;
        tr.dataset.instrument = line.instrument;
      });
      setText(cell(row, "account"), line.account);
      setText(cell(row, "instrument"), line.instrument);
      setText(cell(row, "sod"), signedQty(line.sodQty));
      setText(cell(row, "bought"), qty(line.bought));
      setText(cell(row, "sold"), qty(line.sold));
      const net = cell(row, "net");
      setText(net, signedQty(line.net));
      net.dataset.side = line.net > 0 ? "long" : line.net < 0 ? "short" : "flat";
      const avg = cell(row, "avg");
      // Off the grid the server writes a plain decimal: shown shorter, exact in the title.
      setText(avg, line.net === 0 ? null : averageLabel(line.avgPrice, line.avgPriceDecimal, state.instruments.get(line.instrument)));
      avg.title = line.avgPriceDecimal ?? "";
      const mark = cell(row, "mark");
      setText(mark, line.mark);
      mark.title = line.markSource ? `mark source: ${line.markSource}` : "";
      if (mark.dataset.source !== (line.markSource ?? "")) mark.dataset.source = line.markSource ?? "";
      setMoney(cell(row, "realized"), line.realized);
      setMoney(cell(row, "unrealized"), line.unrealized);
      setMoney(cell(row, "total"), line.total);
      setText(cell(row, "dv01"), signedDecimal(line.dv01));
      setText(cell(row, "last-fill"), clockTime(line.lastFillTime, { seconds: true }));
      ordered.push(row);
    }
    for (const key of pool.keys()) if (!live.has(key)) pool.delete(key);
    if (ordered.length === 0) ordered.push(emptyRow("No positions yet"));
    placeRows(body, ordered);
  }

  let empty = null;
  function emptyRow(message) {
    if (!empty) {
      empty = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = CELLS.length;
      td.className = "empty";
      empty.append(td);
    }
    empty.firstChild.textContent = message;
    return empty;
  }

  return { render };
}
