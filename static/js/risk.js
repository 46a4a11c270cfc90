// Risk: contracts, DV01 and loss-limit usage per account and for the desk, plus the breach
// banner. The usage bar's width is integer arithmetic on the exact money strings.
import { MONEY_SCALE, parseDecimal } from "./decimal.js";
import { UNKNOWN, signedDecimal, signedQty, qty } from "./format.js";
import { cell, keyedRow, placeRows, setMoney, setText } from "./cells.js";

const CELLS = ["th:account", "net", "gross", "dv01", "total", "limit"];

/** Used share of the loss limit in basis points (10000 = 100 %); null when unknown. */
export function limitBasisPoints(used, limit) {
  const usedUnits = parseDecimal(used, MONEY_SCALE);
  const limitUnits = parseDecimal(limit, MONEY_SCALE);
  if (usedUnits === null || limitUnits === null || limitUnits <= 0n) return null;
  const clamped = usedUnits < 0n ? 0n : usedUnits;
  return Number((clamped * 10000n) / limitUnits);
}

function limitState(line, basisPoints) {
  if (["ok", "warning", "breached"].includes(line.limitState)) return line.limitState;
  if (basisPoints === null) return "unknown";
  return basisPoints >= 10000 ? "breached" : basisPoints >= 8000 ? "warning" : "ok";
}

function buildLimitCell(td) {
  const bar = document.createElement("div");
  bar.className = "limit-bar";
  const fill = document.createElement("div");
  fill.className = "limit-fill";
  bar.append(fill);
  const label = document.createElement("span");
  label.className = "limit-label";
  const line = document.createElement("div");
  line.className = "limit-line";
  line.append(bar, label);
  td.append(line);
}

export function createRiskPanel({ table, banner }) {
  const body = table.tBodies[0];
  const deskRow = table.tFoot.rows[0];
  const pool = new Map();

  function render(state) {
    const ordered = [];
    const breached = [];
    for (const name of [...state.accounts.keys()].sort()) {
      const line = state.accounts.get(name);
      const row = keyedRow(pool, name, CELLS, (tr) => {
        tr.dataset.account = name;
        buildLimitCell(cell(tr, "limit"));
      });
      setText(cell(row, "account"), name);
      setText(cell(row, "net"), signedQty(line.netContracts));
      setText(cell(row, "gross"), qty(line.grossContracts));
      setText(cell(row, "dv01"), signedDecimal(line.dv01));
      setMoney(cell(row, "total"), line.total);
      const basisPoints = limitBasisPoints(line.limitUsed, line.lossLimit);
      const stateName = limitState(line, basisPoints);
      const limitCell = cell(row, "limit");
      limitCell.dataset.state = stateName;
      limitCell.querySelector(".limit-fill").style.width = `${Math.min(100, (basisPoints ?? 0) / 100)}%`;
      const percent = basisPoints === null ? UNKNOWN : `${(basisPoints / 100).toFixed(0)}%`;
      const marker = stateName === "breached" ? "BREACH " : stateName === "warning" ? "⚠ " : "";
      const noLimit = line.lossLimit === null;
      limitCell.querySelector(".limit-bar").hidden = noLimit;
      setText(limitCell.querySelector(".limit-label"), noLimit ? "no limit"
        : line.lossLimit ? `${marker}${percent} of ${signedDecimal(line.lossLimit)}` : UNKNOWN);
      if (stateName === "breached") breached.push(`${name}: loss ${signedDecimal(line.limitUsed)} of limit ${signedDecimal(line.lossLimit)}`);
      ordered.push(row);
    }
    placeRows(body, ordered);
    const desk = state.desk ?? {};
    const netSum = [...state.accounts.values()].reduce((sum, line) => Number.isInteger(line.netContracts) ? (sum ?? 0) + line.netContracts : sum, null);
    setText(cell(deskRow, "net"), netSum === null ? UNKNOWN : signedQty(netSum));
    setText(cell(deskRow, "gross"), qty(desk.grossContracts));
    setText(cell(deskRow, "dv01"), signedDecimal(desk.dv01));
    setMoney(cell(deskRow, "total"), desk.total);

    if (breached.length > 0) {
      banner.hidden = false;
      setText(banner, `LOSS LIMIT BREACHED — ${breached.join(" · ")}`);
    } else {
      banner.hidden = true;
    }
  }

  return { render };
}
