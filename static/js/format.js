// Display text for money, quantities and times. Unknown values read "—", never NaN or undefined;
// a sign and an arrow always accompany the colour.
import { MONEY_SCALE, formatDecimal, parseDecimal } from "./decimal.js";

export const UNKNOWN = "—";
const MINUS = "−";

function groupThousands(whole) {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Money the way a desk reads it: dollars and cents with thousands separators, a sign and an
 * arrow — "+1,484.38 ▲", "−1,185.82 ▼", "0.00". Cents are rounded half away from zero, for the
 * eye only: the exact figure is `exactMoney` (shown on hover) and every sum uses the exact units.
 */
export function moneyText(text) {
  const units = parseDecimal(text, MONEY_SCALE);
  if (units === null) return UNKNOWN;
  return moneyUnitsText(units);
}

const CENT = 10n ** BigInt(MONEY_SCALE - 2);

/** Exact money units (1e-16 dollars) to whole cents, half away from zero. */
export function roundedCents(units) {
  const magnitude = units < 0n ? -units : units;
  const cents = (magnitude + CENT / 2n) / CENT;
  return units < 0n ? -cents : cents;
}

export function moneyUnitsText(units, { arrow = true } = {}) {
  if (units === null || units === undefined) return UNKNOWN;
  const cents = roundedCents(units);
  const magnitude = cents < 0n ? -cents : cents;
  const body = `${groupThousands(String(magnitude / 100n))}.${String(magnitude % 100n).padStart(2, "0")}`;
  if (units > 0n) return arrow ? `+${body} ▲` : `+${body}`;
  if (units < 0n) return arrow ? `${MINUS}${body} ▼` : `${MINUS}${body}`;
  return body;
}

/** The exact figure with separators, for the hover: "−1,185.8203125". */
export function exactMoney(units) {
  if (units === null || units === undefined) return "";
  const magnitude = formatDecimal(units < 0n ? -units : units, MONEY_SCALE);
  const [whole, fraction] = magnitude.split(".");
  const body = fraction ? `${groupThousands(whole)}.${fraction}` : groupThousands(whole);
  return units < 0n ? `${MINUS}${body}` : body;
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
