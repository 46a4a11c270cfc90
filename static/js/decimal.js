// Exact decimals as BigInt counts of 10^-scale. Prices and money never pass through binary
// floating point: a tick of 1/256 point is exactly 390625 units of 1e-8.

export const PRICE_SCALE = 8;
export const MONEY_SCALE = 16; // price (1e-8) × dollars per point (1e-8)

const DECIMAL_PATTERN = /^([+-]?)(\d+)(?:\.(\d*))?$/;

/** Parses "110.265625" into units of 10^-scale; null when not a decimal or not exact at that scale. */
export function parseDecimal(text, scale) {
  if (typeof text === "number" && Number.isSafeInteger(text)) text = String(text);
  if (typeof text !== "string") return null;
  const match = DECIMAL_PATTERN.exec(text.trim());
  if (!match) return null;
  const [, sign, whole, fraction = ""] = match;
  const significant = fraction.replace(/0+$/, "");
  if (significant.length > scale) return null;
  const units = BigInt(whole + significant.padEnd(scale, "0"));
  return sign === "-" ? -units : units;
}

/** Formats units of 10^-scale as a trimmed decimal: "110.5", "-203.125", "0". */
export function formatDecimal(units, scale) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== "0" ? `-${text}` : text;
}

/** Moves units from one scale to a finer one (exact). */
export function rescale(units, fromScale, toScale) {
  return units * 10n ** BigInt(toScale - fromScale);
}

/** Integer division rounding half away from zero (for snapping to a tick, never for money). */
export function divideRounded(numerator, denominator) {
  const negative = (numerator < 0n) !== (denominator < 0n);
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (n + d / 2n) / d;
  return negative ? -quotient : quotient;
}

/** Sum of money strings, exact; null if any is unknown. */
export function sumMoney(texts) {
  let total = 0n;
  for (const text of texts) {
    const units = parseDecimal(text, MONEY_SCALE);
    if (units === null) return null;
    total += units;
  }
  return total;
}
