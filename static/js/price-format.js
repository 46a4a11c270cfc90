// Price labels in the instrument's display format, built from integer units so every ladder row
// reads exactly like the server's `price` strings ("110'085", "102'302", "6012.25").
import { PRICE_SCALE, formatDecimal, parseDecimal } from "./decimal.js";

const UNITS_PER_256TH = 390625n; // 1/256 point in units of 1e-8
// CME fraction codes for eighths of a 32nd: .0 .125 .25 .375 .5 .625 .75 .875
const EIGHTH_CODES = ["0", "1", "2", "3", "5", "6", "7", "8"];

/** The display styles a server may use; learned per instrument from its own strings. */
export const STYLES = ["32nds-3", "32nds-2", "decimal-fixed", "decimal-trimmed"];

/** True for the server's 32nds display names: "32nds", "32nds/2", "32nds/4", "32nds/8". */
export function isThirtySeconds(instrument) {
  return String(instrument.display ?? "").startsWith("32nds");
}

export function defaultStyle(instrument) {
  if (isThirtySeconds(instrument)) {
    return instrument.tickUnits >= 8n * UNITS_PER_256TH ? "32nds-2" : "32nds-3";
  }
  return "decimal-fixed";
}

/** Label for a price (units of 1e-8) in one style; null when the price is off that style's grid. */
export function formatPrice(units, style, instrument) {
  if (style.startsWith("32nds")) return format32nds(units, style === "32nds-2");
  if (style === "decimal-trimmed") return formatDecimal(units, PRICE_SCALE);
  return formatFixed(units, decimalPlaces(instrument));
}

function format32nds(units, twoDigits) {
  if (units % UNITS_PER_256TH !== 0n) return null;
  const negative = units < 0n;
  const n256 = (negative ? -units : units) / UNITS_PER_256TH;
  const whole = n256 / 256n;
  const remainder = n256 % 256n;
  const thirtySeconds = String(remainder / 8n).padStart(2, "0");
  const eighth = Number(remainder % 8n);
  if (twoDigits && eighth !== 0) return null;
  const label = `${whole}'${thirtySeconds}${twoDigits ? "" : EIGHTH_CODES[eighth]}`;
  return negative ? `-${label}` : label;
}

function formatFixed(units, places) {
  const trimmed = formatDecimal(units, PRICE_SCALE);
  const [whole, fraction = ""] = trimmed.split(".");
  if (fraction.length > places) return trimmed;
  return places === 0 ? whole : `${whole}.${fraction.padEnd(places, "0")}`;
}

// "decimal/2" names its places; otherwise the tick's own decimals ("0.25" -> 2).
function decimalPlaces(instrument) {
  const named = /\/(\d+)$/.exec(String(instrument.display ?? ""));
  if (named) return Number(named[1]);
  const fraction = String(instrument.tick ?? "").split(".")[1] ?? "";
  return fraction.replace(/0+$/, "").length;
}

/**
 * Remembers how the server writes an instrument's prices: the style that reproduces its strings,
 * plus exact overrides for anything no style explains (bounded).
 */
export function createPriceLabels() {
  const styles = new Map();    // symbol -> style
  const overrides = new Map(); // `${symbol} ${units}` -> label
  const MAX_OVERRIDES = 2000;
  let version = 0; // bumped whenever a label could change: rows drawn earlier must be redrawn

  function learn(instrument, priceText, decimalText) {
    if (!instrument || typeof priceText !== "string") return;
    const units = parseDecimal(decimalText, PRICE_SCALE);
    if (units === null) return;
    const current = styles.get(instrument.symbol) ?? defaultStyle(instrument);
    if (formatPrice(units, current, instrument) === priceText) return;
    const matching = STYLES.find((style) => formatPrice(units, style, instrument) === priceText);
    version += 1;
    if (matching) {
      styles.set(instrument.symbol, matching);
      return;
    }
    if (overrides.size >= MAX_OVERRIDES) overrides.delete(overrides.keys().next().value);
    overrides.set(`${instrument.symbol} ${units}`, priceText);
  }

  function label(instrument, units) {
    const override = overrides.get(`${instrument.symbol} ${units}`);
    if (override) return override;
    const style = styles.get(instrument.symbol) ?? defaultStyle(instrument);
    return formatPrice(units, style, instrument) ?? formatDecimal(units, PRICE_SCALE);
  }

  return { learn, label, get version() { return version; } };
}

/**
 * The text for an average open price: the server's label when it is on the grid, else 32nds with
 * hundredths for 32nds products, else the decimal to two places past the tick's.
 */
export function averageLabel(priceText, decimalText, instrument) {
  if (typeof priceText !== "string") return null;
  if (priceText.includes("'") || !instrument) return priceText;
  const in32nds = averageIn32nds(decimalText, instrument);
  if (in32nds) return in32nds;
  const places = decimalPlaces(instrument) + 2;
  const [whole, fraction = ""] = String(decimalText ?? priceText).split(".");
  if (fraction.length <= places) return priceText;
  const rounded = parseDecimal(`${whole}.${fraction.slice(0, places)}`, PRICE_SCALE);
  const nudge = Number(fraction[places]) >= 5 ? 10n ** BigInt(PRICE_SCALE - places) : 0n;
  if (rounded === null) return priceText;
  const text = formatDecimal(rounded + (whole.startsWith("-") ? -nudge : nudge), PRICE_SCALE);
  return `${text.split(".")[0]}.${(text.split(".")[1] ?? "").padEnd(places, "0")}`;
}

/**
 * An average price that is off the tick grid, in 32nds with hundredths of a 32nd
 * ("115'17.84"), the way desks quote averages; null when it is not a 32nds product.
 */
export function averageIn32nds(decimalText, instrument) {
  if (!instrument || !isThirtySeconds(instrument)) return null;
  const [wholeText, fractionText = ""] = String(decimalText ?? "").split(".");
  if (!/^\d+$/.test(wholeText) || !/^\d*$/.test(fractionText)) return null;
  // hundredths of a 32nd, rounded half up, from the exact decimal fraction
  const digits = fractionText.length;
  const fraction = BigInt(fractionText || "0");
  const scale = 10n ** BigInt(digits);
  let hundredths = (fraction * 3200n * 2n + scale) / (2n * scale);
  let whole = BigInt(wholeText);
  if (hundredths >= 3200n) { whole += 1n; hundredths -= 3200n; }
  const thirtySeconds = String(hundredths / 100n).padStart(2, "0");
  const rest = String(hundredths % 100n).padStart(2, "0");
  return `${whole}'${thirtySeconds}.${rest}`;
}
