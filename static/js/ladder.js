// The price ladder: a static column of rows one tick apart, high at the top. Rows are rebuilt
// only when the instrument or the centre changes (recentre button, Space, or auto-recentre near
// an edge); every other update rewrites cell text in place, so the column never jumps.
import { MONEY_SCALE, PRICE_SCALE, divideRounded, formatDecimal, parseDecimal, rescale, sumMoney } from "./decimal.js";
import { UNKNOWN, direction, moneyUnitsText, signedQty } from "./format.js";
import { averageLabel, isThirtySeconds } from "./price-format.js";

const HALF_ROWS = 30;      // rows above and below the centre
const EDGE_ROWS = 4;       // auto-recentre when the mark comes this close to an edge

/** Exact decimal text to units of 1e-16, truncating digits past that (average prices repeat). */
function parseFine(text) {
  if (typeof text !== "string") return null;
  const [whole, fraction = ""] = text.split(".");
  return parseDecimal(fraction ? `${whole}.${fraction.slice(0, MONEY_SCALE)}` : whole, MONEY_SCALE);
}

/** What the ladder shows for one instrument, derived from the state; null values are unknown. */
export function ladderModel(state, symbol) {
  const instrument = state.instruments.get(symbol) ?? null;
  const positions = [...state.positions.values()].filter((line) => line.instrument === symbol);
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
  return {
    instrument, positions, markUnits, markSource, net, total, averageFine, averageText,
    levels: state.volume.get(symbol) ?? new Map(),
    lastFill: state.lastFill.get(symbol) ?? null,
  };
}

export function createLadder({ table, scroller, info, labels }) {
  const body = table.tBodies[0];
  let symbol = null;
  let centre = null;
  let rows = [];           // [{units, tr, cells, shown:{}}], top to bottom
  let lastFlash = null;
  let describedAs = null;
  let labelsVersion = -1;

  function reference(model) {
    if (model.markUnits !== null) return model.markUnits;
    if (model.lastFill) return model.lastFill.units;
    if (model.averageFine !== null) return model.averageFine / 10n ** BigInt(MONEY_SCALE - PRICE_SCALE);
    return null;
  }

  function snap(units, tick) {
    return divideRounded(units, tick) * tick;
  }

  function build(model, centreUnits) {
    labelsVersion = labels.version;
    const tick = model.instrument.tickUnits;
    centre = snap(centreUnits, tick);
    const fragment = document.createDocumentFragment();
    rows = [];
    for (let offset = HALF_ROWS; offset >= -HALF_ROWS; offset -= 1) {
      const units = centre + BigInt(offset) * tick;
      const tr = document.createElement("tr");
      tr.dataset.price = formatDecimal(units, PRICE_SCALE);
      const cells = {};
      for (const name of ["bought", "price", "sold", "last", "pnl"]) {
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
    // Put the centre row in the middle of the visible column.
    const centreRow = rows[HALF_ROWS].tr;
    scroller.scrollTop = centreRow.offsetTop - (scroller.clientHeight - centreRow.offsetHeight) / 2;
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

  function setClass(row, name, on) {
    if (row.tr.classList.contains(name) !== on) row.tr.classList.toggle(name, on);
  }

  function clear(message) {
    symbol = null;
    centre = null;
    rows = [];
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 5;
    td.className = "empty";
    td.textContent = message;
    tr.append(td);
    body.replaceChildren(tr);
    delete table.dataset.instrument;
    info.textContent = UNKNOWN;
    describedAs = null;
  }

  function render(state, selected, { recentre = false, autoRecentre = false } = {}) {
    const model = selected ? ladderModel(state, selected) : null;
    if (!model || !model.instrument || model.instrument.tickUnits === null || model.instrument.tickUnits <= 0n) {
      clear(selected ? `No instrument definition for ${selected}` : "No instrument with a position or a mark yet");
      return;
    }
    const ref = reference(model);
    if (ref === null) {
      clear(`${selected}: no mark, fill or position yet`);
      return;
    }
    const tick = model.instrument.tickUnits;
    const markIndex = () => rows.findIndex((row) => row.units === snap(model.markUnits ?? ref, tick));
    let rebuild = selected !== symbol || centre === null || recentre;
    if (!rebuild && autoRecentre) {
      const index = markIndex();
      rebuild = index < EDGE_ROWS || index >= rows.length - EDGE_ROWS;
    }
    if (rebuild) {
      symbol = selected;
      build(model, ref);
    } else if (labelsVersion !== labels.version) {
      // The server showed how it writes these prices: relabel in place, without moving rows.
      labelsVersion = labels.version;
      for (const row of rows) row.cells.price.textContent = labels.label(model.instrument, row.units);
    }
    update(model);
    describe(model);
  }

  function update(model) {
    const { instrument, markUnits, net, total, levels, lastFill } = model;
    const tick = instrument.tickUnits;
    const markRow = markUnits === null ? null : snap(markUnits, tick);
    const averageRow = model.averageFine === null ? null
      : divideRounded(model.averageFine, rescale(tick, PRICE_SCALE, MONEY_SCALE)) * tick;
    const flashNow = lastFill && lastFill.flash !== lastFlash ? lastFill : null;
    if (flashNow) lastFlash = lastFill.flash;
    for (const row of rows) {
      const level = levels.get(row.units);
      setText(row, "bought", level && level.bought ? String(level.bought) : "");
      setText(row, "sold", level && level.sold ? String(level.sold) : "");
      setClass(row, "mark", row.units === markRow);
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
      if (markUnits === null || total === null || instrument.dollarsPerPoint === null) {
        setText(row, "pnl", UNKNOWN);
        setData(row.cells.pnl, "value", "");
        setData(row.cells.pnl, "direction", "");
      } else {
        // net × (row − mark) × $/point + current total, all in integer units of 1e-16 dollars.
        const projected = BigInt(net) * (row.units - markUnits) * instrument.dollarsPerPoint + total;
        const shownKey = `${projected}|${row.units === markRow}|${net === 0}`;
        if (row.shown.projected !== shownKey) {
          row.shown.projected = shownKey;
          setText(row, "pnl", net === 0 && row.units !== markRow ? "" : moneyUnitsText(projected));
          setData(row.cells.pnl, "value", formatDecimal(projected, MONEY_SCALE));
          setData(row.cells.pnl, "direction", direction(projected) ?? "");
        }
      }
      setData(row.cells.price, "avg", row.units === averageRow ? "avg" : null);
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

  return { render, get symbol() { return symbol; } };
}
