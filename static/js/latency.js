// Event-to-screen latency: from a message's server `time` to the frame that shows it, smoothed.
// Only times close to now count (a fill's time may be its trade time, long before it arrived).

const PLAUSIBLE_MS = 5000;

export function createLatencyEstimate() {
  let pendingTime = null;
  let smoothed = null;
  let roundTrip = null;

  return {
    received(message) {
      if (typeof message.time !== "string" || message.type === "snapshot") return;
      const time = Date.parse(message.time);
      if (!Number.isNaN(time)) pendingTime = time;
    },
    shown() {
      if (pendingTime === null) return;
      const age = Date.now() - pendingTime;
      pendingTime = null;
      if (age < -PLAUSIBLE_MS || age > PLAUSIBLE_MS) return;
      const sample = Math.max(0, age);
      smoothed = smoothed === null ? sample : smoothed * 0.8 + sample * 0.2;
    },
    roundTrip(ms) { roundTrip = ms; },
    text() {
      if (smoothed === null && roundTrip === null) return "—";
      const screen = smoothed === null ? "—" : `~${Math.round(smoothed)} ms`;
      return roundTrip === null ? screen : `${screen} (rtt ${roundTrip.toFixed(1)} ms)`;
    },
  };
}
