// P&L summary: realized, unrealized and total for the shown accounts and for the desk.
import { cell, keyedRow, placeRows, setMoney, setText } from "./cells.js";

const CELLS = ["th:scope", "realized", "unrealized", "total"];

export function createPnlPanel({ table, deskRow, markSource }) {
  const body = table.tBodies[0];
  const pool = new Map();

  function render(state, { account, instrument }) {
    const names = account ? [account] : [...state.accounts.keys()].sort();
    const ordered = [];
    for (const name of names) {
      const line = state.accounts.get(name);
      const row = keyedRow(pool, name, CELLS, (tr) => { tr.dataset.account = name; tr.className = "account-line"; });
      setText(cell(row, "scope"), name);
      setMoney(cell(row, "realized"), line?.realized);
      setMoney(cell(row, "unrealized"), line?.unrealized);
      setMoney(cell(row, "total"), line?.total);
      ordered.push(row);
    }
    const desk = state.desk;
    setMoney(cell(deskRow, "realized"), desk?.realized);
    setMoney(cell(deskRow, "unrealized"), desk?.unrealized);
    setMoney(cell(deskRow, "total"), desk?.total);
    ordered.push(deskRow);
    placeRows(body, ordered);

    const mark = instrument ? state.marks.get(instrument) : null;
    const fallback = instrument ? [...state.positions.values()].find((line) => line.instrument === instrument && line.mark) : null;
    if (mark) setText(markSource, `${instrument} mark ${mark.price} · source ${mark.source ?? "—"}`);
    else if (fallback) setText(markSource, `${instrument} mark ${fallback.mark} · source ${fallback.markSource ?? "—"}`);
    else setText(markSource, instrument ? `${instrument} mark —` : "—");
  }

  return { render };
}
