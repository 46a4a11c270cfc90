// HTTP calls to the server, with the token as a bearer credential when one is set.

function headers(token, extra = {}) {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** Reads the server's error text from a rejected response, whatever its shape. */
async function errorText(response) {
  try {
    const body = await response.json();
    const first = body?.errors?.[0];
    if (first) return `${first.code ? `${first.code}: ` : ""}${first.message ?? ""}`.trim();
    if (body?.message) return body.message;
    if (body?.error) return typeof body.error === "string" ? body.error : JSON.stringify(body.error);
  } catch {
    // not JSON: fall through to the status line
  }
  return `HTTP ${response.status} ${response.statusText}`.trim();
}

/** POSTs producer messages; resolves {ok, message}. */
export async function postProducerMessages(messages, token) {
  let response;
  try {
    response = await fetch("api/fills", {
      method: "POST",
      headers: headers(token, { "Content-Type": "application/json" }),
      body: JSON.stringify(messages),
    });
  } catch (error) {
    return { ok: false, message: `server unreachable (${error.message})` };
  }
  if (response.ok) {
    let body = null;
    try { body = await response.json(); } catch { /* an empty 2xx is fine */ }
    return { ok: true, body };
  }
  return { ok: false, message: await errorText(response) };
}

/** GET /api/fills (optionally one account and/or instrument); resolves the fills array or throws with the server's text. */
export async function fetchFills({ account = null, instrument = null, limit, token }) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (account) query.set("account", account);
  if (instrument) query.set("instrument", instrument);
  const response = await fetch(`api/fills?${query}`, { headers: headers(token) });
  if (!response.ok) {
    const error = new Error(await errorText(response));
    error.status = response.status;
    throw error;
  }
  const body = await response.json();
  return Array.isArray(body?.fills) ? body.fills : [];
}

/** Whether the server turns this token (or no token) away: true, false, or null if unreachable. */
export async function tokenRefused(token) {
  try {
    const response = await fetch("api/snapshot?account=-", { headers: headers(token), cache: "no-store" });
    return response.status === 401 || response.status === 403;
  } catch {
    return null;
  }
}

/**
 * Fills of the given account, or of every account: a token scoped to accounts must name one
 * (400 without), so on 400 the accounts the page knows are asked one by one.
 */
export async function fetchFillsOfAccounts({ account, knownAccounts, instrument = null, limit, token }) {
  if (account) return fetchFills({ account, instrument, limit, token });
  try {
    return await fetchFills({ instrument, limit, token });
  } catch (error) {
    if (error.status !== 400 || knownAccounts.length === 0) throw error;
    const batches = await Promise.all(knownAccounts.map((name) => fetchFills({ account: name, instrument, limit, token })));
    return batches.flat();
  }
}
