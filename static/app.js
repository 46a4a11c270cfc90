// Entry point: wires the connection, the state model and the renderers together. Deltas are
// applied to the state as they arrive; the screen is redrawn at most once per frame.
import { createConnection } from "./js/connection.js";
import {
  BLOTTER_PAGE, applyMessage, createState, ladderInstruments, mergeHistoricFills, mergeVolumeHistory, monitorStale,
  rollTradingDay, sourcesStale,
} from "./js/state.js";
import { createLadder } from "./js/ladder.js";
import { createPositionsTable } from "./js/positions.js";
import { createAccountsPanel } from "./js/accounts.js";
import { renderBreachBanner } from "./js/risk.js";
import { renderReconBanner } from "./js/recon.js";
import { createBlotter } from "./js/blotter.js";
import { createFrameScheduler } from "./js/frame.js";
import { createMessageRate } from "./js/message-rate.js";
import { createLatencyEstimate } from "./js/latency.js";
import { fetchFillsOfAccounts, tokenRefused } from "./js/api.js";
import { setUpMarkForm } from "./js/mark-form.js";
import { setUpThemeToggle } from "./js/theme.js";
import { currentToken, setUpTokenForm } from "./js/token.js";
import { setText } from "./js/cells.js";

const $ = (id) => document.getElementById(id);

const state = createState();
const latency = createLatencyEstimate();
const knownAccounts = new Set();
let connectionState = "connecting";
let accountFilter = "";
let recentreRequested = false;
let instrumentChosen = false; // an instrument is on the ladder: never switch it for the trader
let markInstrumentChosen = false; // else the mark form follows the ladder
let notice = null;
let lastSync = "none"; // how the state was last synchronised: snapshot, resync or resumed

const ladder = createLadder({ table: $("ladder"), scroller: $("ladder-scroll"), info: $("ladder-info"), labels: state.labels });
const positions = createPositionsTable($("positions"));
const accounts = createAccountsPanel({ table: $("accounts"), markSource: $("mark-source") });
const blotter = createBlotter({ table: $("blotter"), scroller: $("blotter-scroll"), count: $("blotter-count") });

const token = currentToken;

function showNotice(text, kind = "info") {
  notice = text ? { text, kind } : null;
  schedule();
}

// ---- rendering -------------------------------------------------------------------------------

function syncSelect(select, values, placeholder) {
  const wanted = values.join("\u0000");
  if (select.dataset.values === wanted) return;
  const previous = select.value;
  select.dataset.values = wanted;
  const options = values.map((value) => new Option(value, value));
  if (placeholder) options.unshift(new Option(placeholder, ""));
  select.replaceChildren(...options);
  if (values.includes(previous) || (placeholder && previous === "")) select.value = previous;
}

function renderConnection() {
  const conn = $("conn-state");
  if (conn.textContent !== connectionState) conn.textContent = connectionState;
  conn.dataset.state = connectionState;
  conn.dataset.sync = lastSync;
  document.body.dataset.conn = connectionState;
  const title = connectionState === "live" ? "Ladderwire" : `Ladderwire (${connectionState})`;
  if (document.title !== title) document.title = title;
  setText($("seq"), state.seq ?? "—");
  setText($("epoch"), state.epoch ?? "—");
  setText($("latency"), latency.text());
  const monitors = [...state.monitors.values()];
  setText($("sources"), monitors.length === 0 ? "none"
    : monitors.map((m) => `${m.name} ${m.state ?? "—"}${monitorStale(m) ? " (stale)" : ""}`).join(", "));
  $("sources").dataset.stale = String(monitors.some(monitorStale));
  $("sources").title = monitors.map((m) => `${m.name}: ${m.state}${m.lastError ? ` — ${m.lastError}` : ""}`).join("\n");
  const errors = state.lastError ? { text: `server: ${state.lastError}`, kind: "error" } : null;
  const shown = notice ?? errors;
  const box = $("notice");
  box.hidden = !shown;
  if (shown) {
    setText(box, shown.text);
    box.dataset.kind = shown.kind;
  }
}

function render() {
  const all = state.dirty.has("all");
  const instruments = ladderInstruments(state);
  syncSelect($("instrument-select"), instruments, null);
  if (!instrumentChosen && instruments.length > 0) {
    $("instrument-select").value = preferredInstrument(instruments);
    // Picked once there are positions to pick by; after that it never switches by itself.
    instrumentChosen = state.positions.size > 0;
  }
  syncSelect($("mark-instrument"), [...state.instruments.keys()], null);
  for (const account of state.accounts.keys()) knownAccounts.add(account);
  syncSelect($("account-select"), [...knownAccounts].sort(), "All accounts");
  if ($("account-select").value !== accountFilter) $("account-select").value = accountFilter;
  const selected = $("instrument-select").value || null;
  if (!markInstrumentChosen && selected) $("mark-instrument").value = selected;
  if (selected) loadVolumeHistory(selected);
  if (all || state.dirty.has("ladder") || recentreRequested || ladder.symbol !== selected) {
    ladder.render(state, selected, { recentre: recentreRequested, autoRecentre: $("auto-recentre").checked, account: accountFilter });
    recentreRequested = false;
  }
  if (all || state.dirty.has("positions")) positions.render(state);
  accounts.render(state, { account: accountFilter, instrument: selected });
  renderBreachBanner(state, $("breach-banner"));
  renderReconBanner(state, $("recon-banner"));
  if (all || state.dirty.has("blotter")) blotter.render(state);
  state.dirty.clear();
  latency.shown();
  renderConnection();
}

// Until the trader picks one, the ladder shows the largest open position (else any position).
function preferredInstrument(instruments) {
  let best = null;
  for (const line of state.positions.values()) {
    const size = Math.abs(Number.isInteger(line.net) ? line.net : 0);
    if (instruments.includes(line.instrument) && (best === null || size > best.size)) best = { symbol: line.instrument, size };
  }
  return best?.symbol ?? instruments[0];
}

// The snapshot holds only the latest fills: the ladder's volume at price for the day comes from
// /api/fills, once per instrument and state (a new snapshot replaces the volume).
const HISTORY_LIMIT = 10000; // the most /api/fills returns at once
const VOLUME_HISTORY_LIMIT = HISTORY_LIMIT;
let volumeLoaded = new Set();
async function loadVolumeHistory(symbol) {
  const key = `${state.epoch}|${accountFilter}|${symbol}`;
  if (volumeLoaded.has(key) || state.epoch === null) return;
  volumeLoaded.add(key);
  const loadedFor = volumeLoaded;
  try {
    const fills = await fetchFillsOfAccounts({
      account: accountFilter || null, knownAccounts: [...state.accounts.keys()], instrument: symbol,
      limit: VOLUME_HISTORY_LIMIT, token: token(),
    });
    if (loadedFor !== volumeLoaded) return; // a snapshot replaced the state meanwhile
    mergeVolumeHistory(state, fills);
    schedule();
  } catch {
    // try again a little later (a refused token or a restarting server)
    setTimeout(() => { if (loadedFor === volumeLoaded) volumeLoaded.delete(key); }, 5000);
  }
}

// Above a few hundred messages a second a trader cannot read 60 redraws a second anyway: drawing
// ~15 a second leaves the main thread to parsing and applying, so the page never falls behind.
const messageRate = createMessageRate();
const BUSY_MESSAGES_PER_SECOND = 400;
const BUSY_FRAME_MS = 66;
const schedule = createFrameScheduler(render, {
  minInterval: () => (messageRate.perSecond() > BUSY_MESSAGES_PER_SECOND ? BUSY_FRAME_MS : 0),
});

// ---- connection ------------------------------------------------------------------------------

const connection = createConnection({
  resumePoint: () => ({ since: state.completeSeq, epoch: state.epoch }),
  filterQuery: () => (accountFilter ? { accounts: accountFilter } : {}),
  token,
  onMessage(message) {
    messageRate.count();
    applyMessage(state, message);
    latency.received(message);
    if (message.type === "resumed") lastSync = "resumed";
    if (message.type === "snapshot") {
      volumeLoaded = new Set();
      lastSync = message.resync ? "resync" : "snapshot";
      state.lastError = null;
      notice = null;
    }
    if (message.type === "snapshot" || message.type === "status") connection.refresh(sourcesStale(state));
    schedule();
  },
  onState(next) {
    connectionState = next;
    if (next === "live") connection.refresh(sourcesStale(state));
    schedule();
  },
  onClose({ code, reason, opened }) {
    if (!opened) explainRefusal();
    if (code === 1008 || code === 4001) showNotice(`Server closed the connection (${code}${reason ? `: ${reason}` : ""}); check the token.`, "error");
    else if (code === 4008) showNotice("Too slow to keep up (4008): resuming from the last seq.", "info");
    else if (opened && code !== 1000 && code !== 1001 && code !== 1006) showNotice(`Connection closed (${code}${reason ? `: ${reason}` : ""}).`, "info");
  },
  onLatency({ roundTripMs }) {
    latency.roundTrip(roundTripMs);
    schedule();
  },
});
connection.staleCheck = () => sourcesStale(state);

// A browser does not say why a handshake failed; ask the HTTP side whether it was the token.
let lastRefusalCheck = 0;
async function explainRefusal() {
  if (Date.now() - lastRefusalCheck < 5000) return;
  lastRefusalCheck = Date.now();
  const refused = await tokenRefused(token());
  if (refused) {
    showNotice(token() ? "The server refused this token: enter a valid one under Token."
      : "This server needs a token: enter it under Token.", "error");
  }
}

// ---- controls --------------------------------------------------------------------------------

$("instrument-select").addEventListener("change", () => {
  instrumentChosen = true;
  recentreRequested = true;
  schedule();
});

$("blotter-scroll").addEventListener("scroll", () => {
  state.dirty.add("blotter");
  schedule();
}, { passive: true });

$("recentre").addEventListener("click", () => {
  recentreRequested = true;
  schedule();
});

document.addEventListener("keydown", (event) => {
  if (event.code !== "Space" || event.repeat) return;
  if (event.target.closest?.("input, select, textarea, button")) return;
  event.preventDefault();
  recentreRequested = true;
  schedule();
});

$("account-select").addEventListener("change", () => {
  accountFilter = $("account-select").value;
  state.dirty.add("ladder");
  const sent = connection.send({ type: "subscribe", accounts: accountFilter ? [accountFilter] : null, instruments: null, channels: null });
  if (!sent) connection.restart();
  schedule();
});

setUpTokenForm({
  form: $("token-form"),
  input: $("token-input"),
  onChange(hasToken) {
    showNotice(hasToken ? "Token set for this tab; reconnecting." : "Token cleared; reconnecting.");
    connection.restart();
  },
});

$("load-more").addEventListener("click", async () => {
  const button = $("load-more");
  button.disabled = true;
  try {
    const have = [...state.fills.values()].filter((fill) => !accountFilter || fill.account === accountFilter).length;
    const fills = await fetchFillsOfAccounts({
      account: accountFilter || null, knownAccounts: [...state.accounts.keys()],
      limit: Math.min(HISTORY_LIMIT, have + BLOTTER_PAGE), token: token(),
    });
    mergeHistoricFills(state, fills);
    showNotice(null);
  } catch (error) {
    showNotice(`Load more failed: ${error.message}`, "error");
  } finally {
    button.disabled = false;
    schedule();
  }
});

$("mark-instrument").addEventListener("change", () => { markInstrumentChosen = true; });
setUpMarkForm({ form: $("mark-form"), instrumentSelect: $("mark-instrument"), priceInput: $("mark-price"), result: $("mark-result"), token });
setUpThemeToggle($("theme-toggle"));

connection.start();
schedule();
// Staleness, latency and the trading-day rollover need a look now and then, traffic or not.
setInterval(() => {
  rollTradingDay(state);
  schedule();
}, 1000);
