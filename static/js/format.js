// Display text for money, quantities and times. Unknown values read "—", never NaN or undefined;
// a sign and an arrow always accompany the colour.
import { MONEY_SCALE, formatDecimal, parseDecimal } from "./decimal.js";

export const UNKNOWN = "—";
const MINUS = "−";

function groupThousands(whole) {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "+1,484.375 ▲", "−203.125 ▼", "0.00"; the exact server string, only decorated. */
export function moneyText(text) {
  const units = parseDecimal(text, MONEY_SCALE);
  if (units === null) return UNKNOWN;
  return moneyUnitsText(units);
}

export function moneyUnitsText(units) {
  if (units === null || units === undefined) return UNKNOWN;
  const magnitude = formatDecimal(units < 0n ? -units : units, MONEY_SCALE);
  const [whole, fraction = ""] = magnitude.split(".");
  const body = `${groupThousands(whole)}.${fraction.padEnd(2, "0")}`;
  if (units > 0n) return `+${body} ▲`;
  if (units < 0n) return `${MINUS}${body} ▼`;
  return body;
}

/** "up" / "down" / "flat" for colouring; null when unknown. */
export function direction(text) {
  const units = typeof text === "bigint" ? text : parseDecimal(text, MONEY_SCALE);
  if (units === null || units === undefined) return null;
  return units > 0n ? "up" : units < 0n ? "down" : "flat";
}

/** Signed contracts: "+5", "−3", "0". */
export function signedQty(value) {
  if (!Number.isInteger(value)) return UNKNOWN;
  if (value > 0) return `+${value}`;
  if (value < 0) return `${MINUS}${-value}`;
  return "0";
}

export function qty(value) {
  return Number.isInteger(value) ? String(value) : UNKNOWN;
}

/** Plain decimal with grouping and a sign, for DV01 and limits: "−216", "25,000". */
export function signedDecimal(text) {
  const units = parseDecimal(text, MONEY_SCALE);
  if (units === null) return UNKNOWN;
  const magnitude = formatDecimal(units < 0n ? -units : units, MONEY_SCALE);
  const [whole, fraction] = magnitude.split(".");
  const body = fraction ? `${groupThousands(whole)}.${fraction}` : groupThousands(whole);
  return units < 0n ? `${MINUS}${body}` : body;
}

export function text(value) {
  return value === null || value === undefined || value === "" ? UNKNOWN : String(value);
}

/** "14:30:00.123" (or "14:30:00" with seconds: true) from an ISO time, in UTC like the server. */
export function clockTime(iso, { seconds = false } = {}) {
  if (typeof iso !== "string") return UNKNOWN;
  const match = /T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?/.exec(iso);
  if (!match) return UNKNOWN;
  return seconds ? match[1] : match[1] + (match[2] ?? "");
}
