// The desk state a subscriber holds: replaced by a snapshot, advanced by deltas. Every apply is
// idempotent (fills by execId, positions and totals as whole lines), so the deltas a resume
// replays twice change nothing. Rendering reads it; nothing here touches the DOM.
import { PRICE_SCALE, parseDecimal } from "./decimal.js";
import { createPriceLabels } from "./price-format.js";
import { inTradingDay, tradingDayStart } from "./trading-day.js";

export const BLOTTER_PAGE = 500;
const BLOTTER_MAX = 5000;
const VOLUME_MEMORY = 20000; // execIds whose ladder volume can still be reversed by a bust
const FRESH_AT_MOST = 64;

export function positionKey(account, instrument) {
  return `${account}\u0000${instrument}`;
}

export function createState() {
  const state = {
    epoch: null,
    seq: null,          // highest seq seen
    completeSeq: null,  // highest seq whose messages have all arrived: the resume point
    instruments: new Map(),
    positions: new Map(),
    accounts: new Map(),
    desk: null,
    marks: new Map(),
    fills: new Map(),   // execId -> fill, capped at blotterCap (newest kept)
    blotterCap: BLOTTER_PAGE,
    volume: new Map(),  // instrument -> Map(priceUnits -> {bought, sold})
    accountVolume: new Map(), // positionKey(account, instrument) -> Map(priceUnits -> {bought, sold})
    orders: new Map(),  // orderId -> working order (as the server sends it); ended orders leave
    contributions: new Map(), // execId -> {instrument, units, side, qty} counted in volume
    bustedIds: new Set(),     // busts seen, so older history cannot count them again
    dayStart: tradingDayStart(),
    lastFill: new Map(),      // instrument -> {units, tick: "up"|"down"|"flat", execId}
    monitors: new Map(),
    filter: null,
    labels: createPriceLabels(),
    freshFills: new Set(),    // execIds to flash on the next render
    lastError: null,
    dirty: new Set(["all"]),
  };
  return state;
}

function touch(state, ...parts) {
  for (const part of parts) state.dirty.add(part);
}

function advanceSeq(state, seq) {
  if (!Number.isInteger(seq)) return;
  if (state.seq === null || seq > state.seq) {
    // A new seq means every message of the previous one has arrived.
    state.completeSeq = state.seq;
    state.seq = seq;
    touch(state, "conn");
  }
}

function settleSeq(state, seq) {
  if (!Number.isInteger(seq)) return;
  if (state.seq === null || seq >= state.seq) {
    state.seq = seq;
    state.completeSeq = seq;
    touch(state, "conn");
  }
}

function instrumentFrom(raw) {
  return {
    symbol: raw.symbol,
    product: raw.product ?? null,
    tick: raw.tick,
    tickUnits: parseDecimal(raw.tick, PRICE_SCALE),
    dollarsPerPoint: parseDecimal(raw.dollarsPerPoint, PRICE_SCALE),
    display: raw.display ?? "decimal",
    dv01: raw.dv01 ?? null,
  };
}

// Labels are learned from traded and marked prices only: an average is computed, often off the
// grid, and may be written differently.
function learnPrice(state, symbol, price, priceDecimal) {
  const instrument = state.instruments.get(symbol);
  if (instrument) state.labels.learn(instrument, price, priceDecimal);
}

export function applyMessage(state, message) {
  switch (message?.type) {
    case "snapshot": return applySnapshot(state, message);
    case "resumed": return applyResumed(state, message);
    case "fill": return applyFill(state, message, true);
    case "position": return applyPosition(state, message);
    case "pnl": return applyPnl(state, message);
    case "mark": return applyMark(state, message);
    case "limit": return applyLimit(state, message);
    case "order": return applyOrder(state, message);
    case "status": return applyStatus(state, message);
    case "heartbeat": return settleSeq(state, message.seq);
    case "error":
      state.lastError = message.message ?? message.code ?? "error";
      return touch(state, "notice");
    default:
      return undefined; // unknown types are ignored: the protocol may add them
  }
}

function applySnapshot(state, snapshot) {
  state.epoch = snapshot.epoch ?? null;
  state.seq = null;
  settleSeq(state, snapshot.seq);
  state.instruments = new Map((snapshot.instruments ?? []).map((raw) => [raw.symbol, instrumentFrom(raw)]));
  state.positions = new Map();
  for (const line of snapshot.positions ?? []) {
    state.positions.set(positionKey(line.account, line.instrument), line);
    learnPrice(state, line.instrument, line.mark, line.markDecimal);
  }
  state.accounts = new Map((snapshot.accounts ?? []).map((line) => [line.account, line]));
  state.desk = snapshot.desk ?? null;
  state.marks = new Map();
  for (const mark of snapshot.marks ?? []) {
    state.marks.set(mark.instrument, mark);
    learnPrice(state, mark.instrument, mark.price, mark.priceDecimal);
  }
  state.monitors = new Map((snapshot.monitors ?? []).map((monitor) => [monitor.name, monitor]));
  state.filter = snapshot.filter ?? null;
  state.orders = new Map();
  for (const order of snapshot.orders ?? []) {
    state.orders.set(order.orderId, order);
    learnPrice(state, order.instrument, order.price, order.priceDecimal);
  }
  state.fills = new Map();
  state.volume = new Map();
  state.accountVolume = new Map();
  state.contributions = new Map();
  state.bustedIds = new Set();
  state.lastFill = new Map();
  state.freshFills.clear();
  // Snapshot fills come oldest first, all at or before the snapshot's seq; one without a seq
  // gets an order key just below it so live fills still sort above.
  const snapshotFills = snapshot.fills ?? [];
  snapshotFills.forEach((fill, index) => {
    const order = Number.isInteger(fill.seq) ? fill.seq
      : (snapshot.seq ?? 0) - 1 + (index + 1) / (snapshotFills.length + 1);
    applyFill(state, { ...fill, order }, false);
  });
  touch(state, "all");
}

function applyResumed(state, message) {
  if (message.epoch && state.epoch && message.epoch !== state.epoch) return;
  settleSeq(state, message.seq ?? message.since);
}

// Ladder volume at price: each fill counted once, a bust reverses it, a correction re-counts it.
function countVolume(state, fill) {
  const previous = state.contributions.get(fill.execId);
  if (previous) {
    adjustVolume(state, previous, -1);
    state.contributions.delete(fill.execId);
  }
  if (fill.status === "busted") {
    if (state.bustedIds.size >= VOLUME_MEMORY) state.bustedIds.delete(state.bustedIds.values().next().value);
    state.bustedIds.add(fill.execId);
    return;
  }
  if (!inTradingDay(fill.time, state.dayStart)) return; // yesterday's fills are not today's volume
  const units = parseDecimal(fill.priceDecimal, PRICE_SCALE);
  if (units === null || !Number.isInteger(fill.qty)) return;
  const contribution = { instrument: fill.instrument, account: fill.account, units, side: fill.side, qty: fill.qty };
  adjustVolume(state, contribution, 1);
  if (state.contributions.size >= VOLUME_MEMORY) {
    state.contributions.delete(state.contributions.keys().next().value);
  }
  state.contributions.set(fill.execId, contribution);
}

function adjustVolume(state, { instrument, account, units, side, qty }, sign) {
  const books = [[state.volume, instrument]];
  if (typeof account === "string") books.push([state.accountVolume, positionKey(account, instrument)]);
  for (const [volume, key] of books) {
    let levels = volume.get(key);
    if (!levels) volume.set(key, (levels = new Map()));
    const level = levels.get(units) ?? { bought: 0, sold: 0 };
    if (side === "buy") level.bought += sign * qty;
    else level.sold += sign * qty;
    if (level.bought === 0 && level.sold === 0) levels.delete(units);
    else levels.set(units, level);
  }
}

// A working order replaces its previous version whole; one that ended leaves the ladder.
function applyOrder(state, order) {
  if (typeof order.orderId !== "string") return;
  advanceSeq(state, order.seq);
  const { type: _type, seq: _seq, ...fields } = order;
  if (order.status === "working") {
    state.orders.set(order.orderId, fields);
    learnPrice(state, order.instrument, order.price, order.priceDecimal);
  } else {
    state.orders.delete(order.orderId);
  }
  touch(state, "ladder");
}

function applyFill(state, fill, live) {
  if (typeof fill.execId !== "string") return;
  advanceSeq(state, fill.seq);
  learnPrice(state, fill.instrument, fill.price, fill.priceDecimal);
  const known = state.fills.get(fill.execId);
  const sameAsKnown = known && known.status === fill.status && known.qty === fill.qty
    && known.priceDecimal === fill.priceDecimal;
  if (sameAsKnown) return; // a replayed delta: already applied
  countVolume(state, fill);
  // A correction or bust keeps the fill's place in the blotter; the first sighting keeps the
  // original seq so the row does not jump.
  const merged = known
    ? { ...known, ...fill, firstSeq: known.firstSeq ?? known.seq, order: known.order ?? known.seq }
    : fill;
  state.fills.set(fill.execId, merged); // a known execId keeps its place in the Map's order
  trimFills(state);
  if (fill.status !== "busted") recordLastFill(state, fill);
  // Bounded: in a hidden tab nothing renders (so nothing clears it), and a burst flashes nothing.
  if (live && state.freshFills.size < FRESH_AT_MOST) state.freshFills.add(fill.execId);
  touch(state, "blotter", "ladder");
}

function recordLastFill(state, fill) {
  const units = parseDecimal(fill.priceDecimal, PRICE_SCALE);
  if (units === null) return;
  const previous = state.lastFill.get(fill.instrument);
  let tick = previous?.tick ?? "flat";
  if (previous && units > previous.units) tick = "up";
  else if (previous && units < previous.units) tick = "down";
  state.lastFill.set(fill.instrument, { units, tick, qty: fill.qty, side: fill.side, execId: fill.execId, flash: Date.now() });
}

// The Map is kept in seq order (live fills arrive in order; merged history is re-sorted), so
// the oldest fill is always the first key.
function trimFills(state) {
  while (state.fills.size > state.blotterCap) state.fills.delete(state.fills.keys().next().value);
}

/** Where a fill sorts: its first seq (a bust keeps the fill's place), else its snapshot order. */
export function fillOrder(fill) {
  return fill.order ?? fill.firstSeq ?? fill.seq ?? 0;
}

/** Older fills fetched from /api/fills: merged by execId, never duplicated. */
export function mergeHistoricFills(state, fills) {
  state.blotterCap = Math.min(BLOTTER_MAX, state.blotterCap + BLOTTER_PAGE);
  for (const fill of fills) {
    if (typeof fill.execId !== "string") continue;
    const known = state.fills.get(fill.execId);
    if (known) {
      // Only fill in what the live copy lacked (a snapshot fill without its seq).
      if (!Number.isInteger(known.seq) && Number.isInteger(fill.seq)) state.fills.set(fill.execId, { ...known, seq: fill.seq });
      continue;
    }
    learnPrice(state, fill.instrument, fill.price, fill.priceDecimal);
    if (!state.contributions.has(fill.execId)) countVolume(state, fill);
    state.fills.set(fill.execId, fill);
  }
  state.fills = new Map([...state.fills].sort(([, a], [, b]) => fillOrder(a) - fillOrder(b)));
  trimFills(state);
  touch(state, "blotter", "ladder");
}

/**
 * Today's fills of an instrument fetched from /api/fills, for the ladder's volume only: the
 * snapshot carries just the latest fills. A fill already counted, or busted since, is skipped,
 * so a reply that raced live deltas cannot count anything twice.
 */
export function mergeVolumeHistory(state, fills) {
  for (const fill of fills) {
    if (typeof fill.execId !== "string") continue;
    if (state.contributions.has(fill.execId) || state.bustedIds.has(fill.execId)) continue;
    countVolume(state, fill);
  }
  touch(state, "ladder");
}

/** At 17:00 Chicago a new trading day starts with an empty ladder. */
export function rollTradingDay(state, now = Date.now()) {
  const start = tradingDayStart(now);
  if (start === state.dayStart) return false;
  state.dayStart = start;
  state.volume = new Map();
  state.accountVolume = new Map();
  state.contributions = new Map();
  state.bustedIds = new Set();
  touch(state, "ladder");
  return true;
}

function applyPosition(state, line) {
  advanceSeq(state, line.seq);
  const { type: _type, ...position } = line;
  state.positions.set(positionKey(line.account, line.instrument), position);
  learnPrice(state, line.instrument, line.mark, line.markDecimal);
  touch(state, "positions", "ladder", "pnl");
}

function applyPnl(state, line) {
  advanceSeq(state, line.seq);
  const { type: _type, scope, ...totals } = line;
  if (scope === "desk") state.desk = { ...state.desk, ...totals };
  else if (typeof line.account === "string") {
    state.accounts.set(line.account, { ...state.accounts.get(line.account), ...totals });
  }
  touch(state, "pnl", "risk");
}

function applyMark(state, mark) {
  advanceSeq(state, mark.seq);
  const { type: _type, ...value } = mark;
  state.marks.set(mark.instrument, value);
  learnPrice(state, mark.instrument, mark.price, mark.priceDecimal);
  touch(state, "ladder", "pnl", "instruments");
}

function applyLimit(state, limit) {
  advanceSeq(state, limit.seq);
  const { type: _type, scope, ...value } = limit;
  if (scope === "desk") state.desk = { ...state.desk, ...value };
  else if (typeof limit.account === "string") state.accounts.set(limit.account, { ...state.accounts.get(limit.account), ...value });
  touch(state, "risk");
}

function applyStatus(state, status) {
  const { type: _type, monitor, ...value } = status;
  if (typeof monitor !== "string") return;
  state.monitors.set(monitor, { name: monitor, ...state.monitors.get(monitor), ...value });
  touch(state, "conn");
}

const HEALTHY_MONITOR_STATES = new Set(["running", "ok", "idle", "live"]);

/** A monitor's data is stale when it says so; without a `stale` flag, when it is not healthy. */
export function monitorStale(monitor) {
  if (typeof monitor.stale === "boolean") return monitor.stale;
  return !HEALTHY_MONITOR_STATES.has(monitor.state);
}

/** True when any source's data is stale (a degraded feed keeps serving old marks). */
export function sourcesStale(state) {
  for (const monitor of state.monitors.values()) {
    if (monitorStale(monitor)) return true;
  }
  return false;
}

/** Instruments worth a ladder: with a position, a mark or a working order, in snapshot order. */
export function ladderInstruments(state) {
  const wanted = new Set(state.marks.keys());
  for (const position of state.positions.values()) wanted.add(position.instrument);
  for (const order of state.orders.values()) wanted.add(order.instrument);
  const ordered = [...state.instruments.keys()].filter((symbol) => wanted.has(symbol));
  for (const symbol of wanted) if (!ordered.includes(symbol)) ordered.push(symbol);
  return ordered;
}
