// The price ladder: a static column of rows one tick apart, high at the top, MD Trader style —
// working buys left of the price, working sells right — with the desk tool's columns: projected
// P&L, position, risk and breakeven per row (rules in docs/ledger.md, "The ladder"). Rows are
// rebuilt only when the instrument, the account or the centre changes (recentre button, Space,
// auto-recentre near an edge) or a working order or the mark falls outside them; every other
// update rewrites cell text in place, so the column never jumps.
import { MONEY_SCALE, PRICE_SCALE, divideRounded, formatDecimal, parseDecimal, rescale, sumMoney } from "./decimal.js";
import { UNKNOWN, direction, exactMoney, moneyUnitsText, signedDecimal, signedQty } from "./format.js";
import { averageLabel, isThirtySeconds } from "./price-format.js";
import { positionKey } from "./state.js";

const HALF_ROWS = 30;      // rows above and below the centre
const EDGE_ROWS = 4;       // auto-recentre when the mark comes this close to an edge
const MAX_ROWS = 2001;     // a working order absurdly far away does not build a million rows
const COLUMNS = ["buys", "bought", "price", "sold", "sells", "last", "pnl", "pos", "risk", "breakeven"];

/** floor(a / b) for BigInt (b > 0). */
function floorDiv(a, b) {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/**
 * The desk tool's columns for rows `rowUnits` (any order, one tick apart), pure and exact.
 *
 * - m, the mark row: the mark's tick, or the tick below it when the mark falls between ticks.
 * - W(r) = working buys − working sells at r.
 * - Pos(r) = net + Σ W(x) for x from m to r inclusive (either direction).
 * - PnL(m) = total + net × (m − mark) × $/pt (the instrument's P&L with the market at m); then
 *   outward one tick at a time with the position before the orders at the new level fill:
 *   PnL(r) = PnL(r − tick) + Pos(r − tick) × $/tick above m, PnL(r) = PnL(r + tick) − Pos(r + tick) × $/tick below.
 * - Risk(r) = Pos(r) × $/tick; Breakeven(r) = PnL(r) / Risk(r) in ticks (null when flat).
 *
 * Money in units of 1e-16 dollars, prices in 1e-8 points. Returns Map(units -> {pos, pnl, risk, breakeven}).
 */
export function projectLadder({ markUnits, tickUnits, dollarsPerPoint, net, total, working, rowUnits }) {
  const out = new Map();
  if (markUnits === null || tickUnits === null || dollarsPerPoint === null || total === null || rowUnits.length === 0) return out;
  const perTick = tickUnits * dollarsPerPoint;
  const markRow = floorDiv(markUnits, tickUnits) * tickUnits;
  const signed = (units) => {
    const level = working.get(units);
    return level ? BigInt(level.buy - level.sell) : 0n;
  };
  let low = markRow, high = markRow;
  for (const units of rowUnits) {
    if (units < low) low = units;
    if (units > high) high = units;
  }
  const row = (pos, pnl) => {
    const risk = pos * perTick;
    return { pos, pnl, risk, breakeven: risk === 0n ? null : { numerator: pnl, denominator: risk } };
  };
  const atMark = total + BigInt(net) * (markRow - markUnits) * dollarsPerPoint;
  const markPos = BigInt(net) + signed(markRow);
  out.set(markRow, row(markPos, atMark));
  let pos = markPos, pnl = atMark;
  for (let units = markRow + tickUnits; units <= high; units += tickUnits) {
    pnl += pos * perTick;
    pos += signed(units);
    out.set(units, row(pos, pnl));
  }
  pos = markPos; pnl = atMark;
  for (let units = markRow - tickUnits; units >= low; units -= tickUnits) {
    pnl -= pos * perTick;
    pos += signed(units);
    out.set(units, row(pos, pnl));
  }
  return out;
}

/** Ticks to breakeven with one decimal, half away from zero: "−3.2", "12.0". */
export function breakevenText(breakeven) {
  if (!breakeven) return "";
  const tenths = divideRounded(breakeven.numerator * 10n, breakeven.denominator);
  const magnitude = tenths < 0n ? -tenths : tenths;
  const body = `${magnitude / 10n}.${magnitude % 10n}`;
  return tenths < 0n ? `−${body}` : body;
}

/** Exact decimal text to units of 1e-16, truncating digits past that (average prices repeat). */
function parseFine(text) {
  if (typeof text !== "string") return null;
  const [whole, fraction = ""] = text.split(".");
  return parseDecimal(fraction ? `${whole}.${fraction.slice(0, MONEY_SCALE)}` : whole, MONEY_SCALE);
}

/**
 * What the ladder shows for one instrument and one account (or all accounts summed when
 * `account` is empty), derived from the state; null values are unknown.
 */
export function ladderModel(state, symbol, account = "") {
  const instrument = state.instruments.get(symbol) ?? null;
  const positions = [...state.positions.values()]
    .filter((line) => line.instrument === symbol && (!account || line.account === account));
  const working = new Map(); // priceUnits -> {buy, sell}
  for (const order of state.orders?.values() ?? []) {
    if (order.instrument !== symbol || (account && order.account !== account)) continue;
    const units = parseDecimal(order.priceDecimal, PRICE_SCALE);
    if (units === null || !Number.isInteger(order.leavesQty)) continue;
    const level = working.get(units) ?? { buy: 0, sell: 0 };
    if (order.side === "buy") level.buy += order.leavesQty;
    else level.sell += order.leavesQty;
    working.set(units, level);
  }
  const markMessage = state.marks.get(symbol) ?? null;
  const markText = markMessage?.priceDecimal ?? positions.find((line) => line.markDecimal)?.markDecimal ?? null;
  const markUnits = parseDecimal(markText, PRICE_SCALE);
  const net = positions.reduce((sum, line) => sum + (Number.isInteger(line.net) ? line.net : 0), 0);
  const total = positions.length > 0 ? sumMoney(positions.map((line) => line.total)) : 0n;
  const open = positions.filter((line) => Number.isInteger(line.net) && line.net !== 0);
  // Breakeven of the combined position: net-weighted average of each account's average price,
  // meaningful only while every account is on the same side.
  let averageFine = null;
  if (open.length > 0 && (open.every((line) => line.net > 0) || open.every((line) => line.net < 0))) {
    let weighted = 0n;
    for (const line of open) {
      const price = parseFine(line.avgPriceDecimal);
      if (price === null) { weighted = null; break; }
      weighted += BigInt(line.net) * price;
    }
    if (weighted !== null) averageFine = weighted / BigInt(net);
  }
  const averageText = open.length === 1 ? averageLabel(open[0].avgPrice, open[0].avgPriceDecimal, instrument) : null;
  const markSource = markMessage?.source ?? positions.find((line) => line.markSource)?.markSource ?? null;
  const levels = account ? state.accountVolume?.get(positionKey(account, symbol)) : state.volume.get(symbol);
  // DV01 of the instrument across the shown accounts: each line's net × the instrument's DV01.
  const dv01 = positions.length > 0 ? sumMoney(positions.map((line) => line.dv01)) : null;
  return {
    instrument, positions, markUnits, markSource, net, total, averageFine, averageText, working, account, dv01,
    levels: levels ?? new Map(),
    lastFill: state.lastFill.get(symbol) ?? null,
  };
}

export function createLadder({ table, scroller, info, labels }) {
  const body = table.tBodies[0];
  let symbol = null;
  let account = null;
  let centre = null;
  let rows = [];           // [{units, tr, cells, shown:{}}], top to bottom
  let lastFlash = null;
  let describedAs = null;
  let labelsVersion = -1;

  function reference(model) {
    if (model.markUnits !== null) return model.markUnits;
    if (model.lastFill) return model.lastFill.units;
    if (model.averageFine !== null) return model.averageFine / 10n ** BigInt(MONEY_SCALE - PRICE_SCALE);
    for (const units of model.working.keys()) return units;
    return null;
  }

  function snap(units, tick) {
    return divideRounded(units, tick) * tick;
  }

  /** The prices that must have a row: every working order and the mark, one tick of padding. */
  function required(model) {
    const tick = model.instrument.tickUnits;
    const prices = [...model.working.keys()];
    if (model.markUnits !== null) prices.push(floorDiv(model.markUnits, tick) * tick, snap(model.markUnits, tick));
    if (prices.length === 0) return null;
    let low = prices[0], high = prices[0];
    for (const units of prices) {
      if (units < low) low = units;
      if (units > high) high = units;
    }
    return { low: low - tick, high: high + tick };
  }

  function covers(model) {
    const need = required(model);
    if (!need || rows.length === 0) return true;
    return need.high <= rows[0].units && need.low >= rows[rows.length - 1].units;
  }

  function build(model, centreUnits, { keepScroll = false } = {}) {
    labelsVersion = labels.version;
    const tick = model.instrument.tickUnits;
    // Keep what the trader looks at where it is when rows are added around it.
    const anchor = keepScroll && rows.length > 0 ? rowAtTop() : null;
    centre = snap(centreUnits, tick);
    let high = centre + BigInt(HALF_ROWS) * tick;
    let low = centre - BigInt(HALF_ROWS) * tick;
    const need = required(model);
    if (need) {
      if (need.high > high) high = need.high;
      if (need.low < low) low = need.low;
    }
    // Clip around the centre when the span is absurd (an order miles away).
    const span = BigInt(MAX_ROWS - 1) * tick;
    if (high - low > span) {
      high = high > centre + span / 2n ? centre + (span / 2n / tick) * tick : high;
      low = high - span;
    }
    const fragment = document.createDocumentFragment();
    rows = [];
    for (let units = high; units >= low; units -= tick) {
      const tr = document.createElement("tr");
      tr.dataset.price = formatDecimal(units, PRICE_SCALE);
      const cells = {};
      for (const name of COLUMNS) {
        const td = document.createElement(name === "price" ? "th" : "td");
        if (name === "price") td.scope = "row";
        td.className = name;
        tr.append(td);
        cells[name] = td;
      }
      cells.price.textContent = labels.label(model.instrument, units);
      fragment.append(tr);
      rows.push({ units, tr, cells, shown: {} });
    }
    body.replaceChildren(fragment);
    table.dataset.instrument = model.instrument.symbol;
    if (anchor) {
      const same = rows.find((row) => row.units === anchor.units);
      if (same) {
        scroller.scrollTop = same.tr.offsetTop - anchor.offset;
        return;
      }
    }
    centreOn(centre);
  }

  function rowAtTop() {
    const top = scroller.scrollTop;
    const row = rows.find((candidate) => candidate.tr.offsetTop + candidate.tr.offsetHeight > top) ?? rows[0];
    return { units: row.units, offset: row.tr.offsetTop - top };
  }

  // Put a price's row in the middle of the visible column.
  function centreOn(units) {
    const row = rows.find((candidate) => candidate.units === units) ?? rows[Math.floor(rows.length / 2)];
    if (!row) return;
    scroller.scrollTop = row.tr.offsetTop - (scroller.clientHeight - row.tr.offsetHeight) / 2;
  }

  function setText(row, name, text) {
    if (row.shown[name] === text) return;
    row.shown[name] = text;
    row.cells[name].textContent = text;
  }

  // Attribute writes restyle the row even when the value is the same: write only changes.
  function setData(element, name, value) {
    if (value === null) {
      if (name in element.dataset) delete element.dataset[name];
    } else if (element.dataset[name] !== value) {
      element.dataset[name] = value;
    }
  }

  function setTitle(element, value) {
    if (element.title !== value) element.title = value;
  }

  function setClass(row, name, on) {
    if (row.tr.classList.contains(name) !== on) row.tr.classList.toggle(name, on);
  }

  function clear(message) {
    symbol = null;
    centre = null;
    rows = [];
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = COLUMNS.length;
    td.className = "empty";
    td.textContent = message;
    tr.append(td);
    body.replaceChildren(tr);
    delete table.dataset.instrument;
    info.textContent = UNKNOWN;
    describedAs = null;
  }

  function render(state, selected, { recentre = false, autoRecentre = false, account: wanted = "" } = {}) {
    const model = selected ? ladderModel(state, selected, wanted) : null;
    if (!model || !model.instrument || model.instrument.tickUnits === null || model.instrument.tickUnits <= 0n) {
      clear(selected ? `No instrument definition for ${selected}` : "No instrument with a position or a mark yet");
      return;
    }
    const ref = reference(model);
    if (ref === null) {
      clear(`${selected}: no mark, fill, position or working order yet`);
      return;
    }
    const tick = model.instrument.tickUnits;
    const markIndex = () => rows.findIndex((row) => row.units === snap(model.markUnits ?? ref, tick));
    let rebuild = selected !== symbol || wanted !== account || centre === null || recentre;
    if (!rebuild && autoRecentre) {
      const index = markIndex();
      rebuild = index < EDGE_ROWS || index >= rows.length - EDGE_ROWS;
    }
    if (rebuild) {
      symbol = selected;
      account = wanted;
      build(model, ref);
    } else if (!covers(model)) {
      // A working order or the mark moved outside the rows: grow them without moving the view.
      build(model, centre, { keepScroll: true });
    } else if (labelsVersion !== labels.version) {
      // The server showed how it writes these prices: relabel in place, without moving rows.
      labelsVersion = labels.version;
      for (const row of rows) row.cells.price.textContent = labels.label(model.instrument, row.units);
    }
    table.dataset.account = wanted || "all";
    update(model);
    describe(model);
  }

  function money(row, name, units) {
    const cell = row.cells[name];
    if (units === null || units === undefined) {
      setText(row, name, "");
      setData(cell, "value", "");
      setData(cell, "direction", "");
      setTitle(cell, "");
      return;
    }
    setText(row, name, moneyUnitsText(units, { arrow: false }));
    setData(cell, "value", formatDecimal(units, MONEY_SCALE));
    setData(cell, "direction", direction(units) ?? "");
    setTitle(cell, `exact: ${exactMoney(units)}`);
  }

  function update(model) {
    const { instrument, markUnits, net, total, levels, lastFill, working } = model;
    const tick = instrument.tickUnits;
    const markOnGrid = markUnits !== null && markUnits % tick === 0n;
    const markRow = markUnits === null ? null : floorDiv(markUnits, tick) * tick;
    const averageRow = model.averageFine === null ? null
      : divideRounded(model.averageFine, rescale(tick, PRICE_SCALE, MONEY_SCALE)) * tick;
    const flashNow = lastFill && lastFill.flash !== lastFlash ? lastFill : null;
    if (flashNow) lastFlash = lastFill.flash;
    const projection = projectLadder({
      markUnits, tickUnits: tick, dollarsPerPoint: instrument.dollarsPerPoint, net, total, working,
      rowUnits: rows.map((row) => row.units),
    });
    for (const row of rows) {
      const level = levels.get(row.units);
      setText(row, "bought", level && level.bought ? String(level.bought) : "");
      setText(row, "sold", level && level.sold ? String(level.sold) : "");
      const orders = working.get(row.units);
      setText(row, "buys", orders && orders.buy ? String(orders.buy) : "");
      setText(row, "sells", orders && orders.sell ? String(orders.sell) : "");
      setClass(row, "working", Boolean(orders));
      setClass(row, "mark", markOnGrid && row.units === markRow);
      // Between ticks: a border on the tick below.
      setClass(row, "mark-below", !markOnGrid && row.units === markRow);
      setClass(row, "average", row.units === averageRow);
      const isLast = lastFill !== null && row.units === lastFill.units;
      setClass(row, "last-fill", isLast);
      setText(row, "last", isLast ? `${lastFill.tick === "up" ? "▲" : lastFill.tick === "down" ? "▼" : "•"} ${lastFill.qty}` : "");
      if (isLast) {
        setData(row.cells.last, "tick", lastFill.tick);
        if (flashNow) {
          // Alternating two identical animations restarts the flash without forcing a layout.
          const cellClasses = row.cells.last.classList;
          const variant = cellClasses.contains("flash-a") ? "flash-b" : "flash-a";
          cellClasses.remove("flash-up", "flash-down", "flash-a", "flash-b");
          cellClasses.add(lastFill.tick === "down" ? "flash-down" : "flash-up", variant);
        }
      }
      const projected = projection.get(row.units) ?? null;
      if (projected === null) {
        setText(row, "pnl", markUnits === null ? UNKNOWN : "");
        for (const name of ["pnl", "risk"]) {
          setData(row.cells[name], "value", "");
          setData(row.cells[name], "direction", "");
          setTitle(row.cells[name], "");
        }
        setText(row, "risk", "");
        setText(row, "pos", "");
        setData(row.cells.pos, "side", null);
        setText(row, "breakeven", "");
        setData(row.cells.breakeven, "direction", null);
        continue;
      }
      const key = `${projected.pnl}|${projected.pos}`;
      if (row.shown.projected === key) continue;
      row.shown.projected = key;
      // A flat book with no orders in reach shows its P&L only on the mark row.
      const quiet = projected.pos === 0n && BigInt(net) === 0n && row.units !== markRow;
      money(row, "pnl", quiet && projected.pnl === total ? null : projected.pnl);
      const pos = Number(projected.pos);
      setText(row, "pos", pos === 0 ? "" : signedQty(pos));
      setData(row.cells.pos, "side", pos > 0 ? "long" : pos < 0 ? "short" : null);
      setData(row.cells.pos, "value", String(pos));
      money(row, "risk", projected.pos === 0n ? null : projected.risk);
      setData(row.cells.risk, "side", pos > 0 ? "long" : pos < 0 ? "short" : null);
      const be = breakevenText(projected.breakeven);
      setText(row, "breakeven", be);
      setData(row.cells.breakeven, "direction", projected.breakeven ? (direction(projected.pnl) ?? "") : null);
    }
  }

  function describe(model) {
    const { instrument, net, markUnits, markSource, averageText, averageFine } = model;
    const tickText = isThirtySeconds(instrument)
      ? `1/${Number(256n * 390625n / instrument.tickUnits)} pt`
      : instrument.tick;
    // A combined average is rarely on the grid: show the nearest tick, marked as approximate.
    const average = averageText
      ?? (averageFine === null ? UNKNOWN
        : `≈${labels.label(instrument, divideRounded(averageFine, rescale(instrument.tickUnits, PRICE_SCALE, MONEY_SCALE)) * instrument.tickUnits)}`);
    const mark = markUnits === null ? UNKNOWN : labels.label(instrument, markUnits);
    const outside = markUnits !== null && rows.length > 0
      ? (markUnits > rows[0].units ? " · mark above ▲" : markUnits < rows[rows.length - 1].units ? " · mark below ▼" : "")
      : "";
    const parts = [
      ["tick", tickText],
      ["$/pt", instrument.dollarsPerPoint === null ? UNKNOWN : formatDecimal(instrument.dollarsPerPoint, PRICE_SCALE)],
      ["net", signedQty(net)],
      ["dv01", model.dv01 === null ? UNKNOWN : signedDecimal(formatDecimal(model.dv01, MONEY_SCALE))],
      ["avg", average],
      ["mark", `${mark}${markSource ? ` (${markSource})` : ""}`],
    ];
    const key = JSON.stringify([parts, outside]);
    if (key === describedAs) return;
    describedAs = key;
    info.replaceChildren();
    for (const [label, value] of parts) {
      const span = document.createElement("span");
      span.className = "info-item";
      const name = document.createElement("span");
      name.className = "meta-label";
      name.textContent = label;
      span.append(name, ` ${value}`);
      if (label === "net") span.dataset.side = net > 0 ? "long" : net < 0 ? "short" : "flat";
      info.append(span);
    }
    if (outside) info.append(outside);
  }

  return {
    render,
    get symbol() { return symbol; },
    /** Scrolls the mark's row (else the centre) to the middle without rebuilding. */
    centreOnMark(state) {
      const model = symbol ? ladderModel(state, symbol, account ?? "") : null;
      if (!model || rows.length === 0) return;
      const tick = model.instrument.tickUnits;
      centreOn(model.markUnits === null ? centre : floorDiv(model.markUnits, tick) * tick);
    },
  };
}
