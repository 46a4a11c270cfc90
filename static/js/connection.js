// The subscriber socket: connects, reconnects with exponential backoff, and resumes from the
// last complete seq of the same epoch so no fill is missed or shown twice. Reports one of
// "connecting" | "live" | "reconnecting" | "stale" through onState.

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 8000;
const STALE_AFTER_MS = 12000;   // heartbeats come every 5 s when idle
const DEAD_AFTER_MS = 25000;    // then give up on the socket and reconnect
const PING_EVERY_MS = 5000;

export function createConnection({ resumePoint, filterQuery, token, onMessage, onState, onClose, onLatency }) {
  let socket = null;
  let attempt = 0;
  let opened = false;
  let everLive = false;
  let lastMessageAt = 0;
  let reconnectTimer = null;
  let pingId = 0;
  let pingsUnanswered = 0;
  let pongsSeen = 0;
  const pingSentAt = new Map();
  // Browsers refuse a handshake whose answer lacks a subprotocol we offered; alternate to the
  // query-string token when an attempt with subprotocols never opens.
  let useSubprotocols = true;
  let state = "connecting";

  function setState(next) {
    if (next === state) return;
    state = next;
    onState(next);
  }

  function url() {
    const base = new URL("ws", location.href);
    base.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    base.searchParams.set("format", "json");
    const { since, epoch } = resumePoint();
    if (Number.isInteger(since) && epoch) {
      base.searchParams.set("since", String(since));
      base.searchParams.set("epoch", epoch);
    }
    for (const [key, value] of Object.entries(filterQuery())) base.searchParams.set(key, value);
    const secret = token();
    if (secret && !useSubprotocols) base.searchParams.set("token", secret);
    return base.toString();
  }

  function open() {
    clearTimeout(reconnectTimer);
    opened = false;
    const secret = token();
    const protocols = useSubprotocols ? ["ladderwire.json", ...(secret ? [`ladderwire.token.${secret}`] : [])] : [];
    let ws;
    try {
      ws = new WebSocket(url(), protocols);
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (ws !== socket) return;
      opened = true;
      lastMessageAt = Date.now();
    };
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      lastMessageAt = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "pong") return receivePong(message);
      if (message.type === "snapshot" || message.type === "resumed") {
        attempt = 0;
        everLive = true;
        setState("live");
      } else if (state === "stale" && !staleForOtherReasons()) {
        setState("live");
      }
      onMessage(message);
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      socket = null;
      if (!opened && protocols.length > 0) useSubprotocols = false;
      else if (!opened) useSubprotocols = true;
      onClose({ code: event.code, reason: event.reason, opened });
      scheduleReconnect();
    };
    ws.onerror = () => {}; // onclose follows and decides
  }

  let staleForOtherReasons = () => false;

  function scheduleReconnect() {
    setState(everLive ? "reconnecting" : "connecting");
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    attempt += 1;
    const jitter = Math.floor(Math.random() * (delay / 4));
    reconnectTimer = setTimeout(open, delay + jitter);
  }

  function receivePong(message) {
    pongsSeen += 1;
    pingsUnanswered = 0;
    const sentAt = pingSentAt.get(message.id);
    pingSentAt.delete(message.id);
    if (sentAt !== undefined) onLatency({ roundTripMs: performance.now() - sentAt });
  }

  function watch() {
    const ws = socket;
    if (!ws || ws.readyState !== WebSocket.OPEN || !opened) return;
    const silentFor = Date.now() - lastMessageAt;
    if (silentFor > DEAD_AFTER_MS) {
      // A frozen peer never answers the close handshake: give up on this socket at once.
      socket = null;
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(4000, "no heartbeat");
      scheduleReconnect();
      return;
    }
    if (state === "live" && silentFor > STALE_AFTER_MS) setState("stale");
    // Servers that do not answer ping get no more of them.
    if (pongsSeen > 0 || pingsUnanswered < 3) {
      pingId += 1;
      pingsUnanswered += 1;
      pingSentAt.set(pingId, performance.now());
      if (pingSentAt.size > 16) pingSentAt.delete(pingSentAt.keys().next().value);
      send({ type: "ping", id: pingId });
    }
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  return {
    start() {
      open();
      setInterval(watch, PING_EVERY_MS);
    },
    /** Drops the socket and connects again at once (after a token or filter change). */
    restart() {
      attempt = 0;
      const old = socket;
      socket = null;
      if (old) {
        old.onopen = old.onmessage = old.onclose = null;
        old.close(1000, "restart");
      }
      open();
    },
    send,
    get state() { return state; },
    set staleCheck(check) { staleForOtherReasons = check; },
    /** Re-evaluates live/stale after a source status change. */
    refresh(sourceStale) {
      if (state === "live" && sourceStale) setState("stale");
      else if (state === "stale" && !sourceStale && Date.now() - lastMessageAt < STALE_AFTER_MS) setState("live");
    },
  };
}
