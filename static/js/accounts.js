// P&L and risk per account and for the desk, in one table: realized, unrealized and total beside
// net and gross contracts, DV01 and loss-limit usage. With an account filter, that account and
// the desk.
import { UNKNOWN, qty, signedDecimal, signedQty } from "./format.js";
import { cell, keyedRow, placeRows, setMoney, setText } from "./cells.js";
import { buildLimitCell, renderLimit } from "./risk.js";

const CELLS = ["th:account", "realized", "unrealized", "total", "net", "gross", "dv01", "limit"];

export function createAccountsPanel({ table, markSource }) {
  const body = table.tBodies[0];
  const deskRow = table.tFoot.rows[0];
  const pool = new Map();

  function render(state, { account, instrument }) {
    const names = account ? [account] : [...state.accounts.keys()].sort();
    const ordered = [];
    for (const name of names) {
      const line = state.accounts.get(name) ?? {};
      const row = keyedRow(pool, name, CELLS, (tr) => {
        tr.dataset.account = name;
        buildLimitCell(cell(tr, "limit"));
      });
      setText(cell(row, "account"), name);
      setMoney(cell(row, "realized"), line.realized);
      setMoney(cell(row, "unrealized"), line.unrealized);
      setMoney(cell(row, "total"), line.total);
      setText(cell(row, "net"), signedQty(line.netContracts));
      setText(cell(row, "gross"), qty(line.grossContracts));
      setText(cell(row, "dv01"), signedDecimal(line.dv01));
      renderLimit(cell(row, "limit"), line);
      ordered.push(row);
    }
    placeRows(body, ordered);

    const desk = state.desk ?? {};
    setMoney(cell(deskRow, "realized"), desk.realized);
    setMoney(cell(deskRow, "unrealized"), desk.unrealized);
    setMoney(cell(deskRow, "total"), desk.total);
    const nets = [...state.accounts.values()].map((line) => line.netContracts);
    setText(cell(deskRow, "net"), nets.length > 0 && nets.every(Number.isInteger)
      ? signedQty(nets.reduce((sum, net) => sum + net, 0)) : UNKNOWN);
    setText(cell(deskRow, "gross"), qty(desk.grossContracts));
    setText(cell(deskRow, "dv01"), signedDecimal(desk.dv01));

    const mark = instrument ? state.marks.get(instrument) : null;
    const fallback = instrument ? [...state.positions.values()].find((line) => line.instrument === instrument && line.mark) : null;
    if (mark) setText(markSource, `${instrument} mark ${mark.price} · source ${mark.source ?? UNKNOWN}`);
    else if (fallback) setText(markSource, `${instrument} mark ${fallback.mark} · source ${fallback.markSource ?? UNKNOWN}`);
    else setText(markSource, instrument ? `${instrument} mark ${UNKNOWN}` : UNKNOWN);
  }

  return { render };
}
