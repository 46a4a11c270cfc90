// Manual mark: an admin types a price in any accepted format ("110-08.5", "110'085", "110.265625");
// the server parses it, and its error text is shown as it is when it refuses.
import { postProducerMessages } from "./api.js";

export function setUpMarkForm({ form, instrumentSelect, priceInput, result, token }) {
  function show(kind, text) {
    result.dataset.kind = kind;
    result.textContent = text;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const instrument = instrumentSelect.value;
    const price = priceInput.value.trim();
    if (!instrument || !price) {
      show("error", "Choose an instrument and type a price (e.g. 110-08.5).");
      return;
    }
    show("pending", "Sending…");
    const outcome = await postProducerMessages([{ type: "mark", instrument, price }], token());
    const seq = outcome.body?.results?.[0]?.seq;
    if (outcome.ok) show("ok", `Mark ${instrument} ${price} accepted${Number.isInteger(seq) ? ` (seq ${seq})` : ""}.`);
    else show("error", `Rejected: ${outcome.message}`);
  });
}
