// Loss limits: the usage bar of one account and the breach banner. The bar's width is integer
// arithmetic on the exact money strings.
import { MONEY_SCALE, parseDecimal } from "./decimal.js";
import { UNKNOWN, signedDecimal } from "./format.js";
import { setText } from "./cells.js";

/** Used share of the loss limit in basis points (10000 = 100 %); null when unknown. */
export function limitBasisPoints(used, limit) {
  const usedUnits = parseDecimal(used, MONEY_SCALE);
  const limitUnits = parseDecimal(limit, MONEY_SCALE);
  if (usedUnits === null || limitUnits === null || limitUnits <= 0n) return null;
  const clamped = usedUnits < 0n ? 0n : usedUnits;
  return Number((clamped * 10000n) / limitUnits);
}

/** The server's state when it sent one, else amber at 80 % and red at 100 %. */
export function limitState(line, basisPoints) {
  if (["ok", "warning", "breached"].includes(line.limitState)) return line.limitState;
  if (basisPoints === null) return "unknown";
  return basisPoints >= 10000 ? "breached" : basisPoints >= 8000 ? "warning" : "ok";
}

export function buildLimitCell(td) {
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

export function renderLimit(td, line) {
  const basisPoints = limitBasisPoints(line.limitUsed, line.lossLimit);
  const stateName = line.lossLimit === null ? "none" : limitState(line, basisPoints);
  if (td.dataset.state !== stateName) td.dataset.state = stateName;
  const width = `${Math.min(100, (basisPoints ?? 0) / 100)}%`;
  const fill = td.querySelector(".limit-fill");
  if (fill.style.width !== width) fill.style.width = width;
  td.querySelector(".limit-bar").hidden = stateName === "none";
  const percent = basisPoints === null ? UNKNOWN : `${Math.floor(basisPoints / 100)}%`;
  const marker = stateName === "breached" ? "BREACH " : stateName === "warning" ? "⚠ " : "";
  setText(td.querySelector(".limit-label"), stateName === "none" ? "no limit"
    : line.lossLimit ? `${marker}${percent} of ${signedDecimal(line.lossLimit)}` : UNKNOWN);
}

/**
 * The banner lists every breach — the desk's loss limit, each account's loss limit, each
 * account's position limit (gross contracts) — and, when nothing is breached, every warning
 * (≥ 80 % used) in amber; hidden while all is well.
 */
export function renderBreachBanner(state, banner) {
  const breached = [];
  const warned = [];
  const desk = state.desk;
  if (desk && desk.lossLimit) {
    const deskState = limitState(desk, limitBasisPoints(desk.limitUsed, desk.lossLimit));
    const text = `DESK: loss ${signedDecimal(desk.limitUsed)} of limit ${signedDecimal(desk.lossLimit)}`;
    if (deskState === "breached") breached.push(text);
    else if (deskState === "warning") warned.push(text);
  }
  for (const [name, line] of [...state.accounts].sort(([a], [b]) => a.localeCompare(b))) {
    if (line.lossLimit !== null && line.lossLimit !== undefined
        && limitState(line, limitBasisPoints(line.limitUsed, line.lossLimit)) === "breached") {
      breached.push(`${name}: loss ${signedDecimal(line.limitUsed)} of limit ${signedDecimal(line.lossLimit)}`);
    }
    if (Number.isInteger(line.positionLimit)) {
      const text = `${name}: position ${line.grossContracts} of ${line.positionLimit} contracts`;
      if (line.positionState === "breached") breached.push(text);
      else if (line.positionState === "warning") warned.push(text);
    }
  }
  const shown = breached.length > 0 ? `LIMIT BREACHED — ${breached.join(" · ")}`
    : warned.length > 0 ? `Limit warning — ${warned.join(" · ")}` : "";
  banner.hidden = !shown;
  const kind = breached.length > 0 ? "breach" : warned.length > 0 ? "warning" : "";
  if (banner.dataset.kind !== kind) banner.dataset.kind = kind;
  if (shown) setText(banner, shown);
}
