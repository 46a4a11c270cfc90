// Position reconciliation with TT: a banner where the trader looks whenever a reconciliation
// monitor reports a break (both sides and the difference) or could not refresh (stale).
import { signedQty } from "./format.js";
import { setText } from "./cells.js";

/** Every recon line of every monitor, with the monitor's name. */
export function reconLines(state) {
  const lines = [];
  for (const monitor of state.monitors.values()) {
    for (const line of Array.isArray(monitor.recon) ? monitor.recon : []) lines.push({ monitor: monitor.name, ...line });
  }
  return lines;
}

export function renderReconBanner(state, banner) {
  const lines = reconLines(state);
  const breaks = lines.filter((line) => line.state === "break");
  const stale = lines.filter((line) => line.state === "stale");
  let text = "";
  let kind = "";
  if (breaks.length > 0) {
    kind = "break";
    text = `POSITION BREAK vs TT — ${breaks.map((line) =>
      `${line.account} ${line.instrument}: ledger ${signedQty(line.ledger?.net)}, TT ${signedQty(line.tt?.net)} (diff ${signedQty(line.difference)})`).join(" · ")}`;
  } else if (stale.length > 0) {
    kind = "stale";
    text = `Reconciliation with TT is stale (${stale.length} line${stale.length === 1 ? "" : "s"} not refreshed)`;
  }
  banner.hidden = !text;
  if (banner.dataset.kind !== kind) banner.dataset.kind = kind;
  banner.title = lines.map((line) =>
    `${line.account} ${line.instrument} ${line.state}: ledger net ${line.ledger?.net} bought ${line.ledger?.bought} sold ${line.ledger?.sold} sod ${line.ledger?.sod}; TT net ${line.tt?.net} bought ${line.tt?.bought} sold ${line.tt?.sold} sod ${line.tt?.sod}`).join("\n");
  if (text) setText(banner, text);
}
