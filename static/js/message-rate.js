// Messages per second over the last second or so, counted in 250 ms buckets (bounded memory).
const BUCKET_MS = 250;
const BUCKETS = 4;

export function createMessageRate() {
  const counts = new Array(BUCKETS).fill(0);
  let bucketStart = 0;
  let index = 0;

  function advance(now) {
    while (now - bucketStart >= BUCKET_MS) {
      index = (index + 1) % BUCKETS;
      counts[index] = 0;
      bucketStart = bucketStart === 0 ? now : bucketStart + BUCKET_MS;
      if (now - bucketStart > BUCKET_MS * BUCKETS) bucketStart = now; // long idle: restart
    }
  }

  return {
    count(now = performance.now()) {
      advance(now);
      counts[index] += 1;
    },
    perSecond(now = performance.now()) {
      advance(now);
      return counts.reduce((sum, count) => sum + count, 0) * (1000 / (BUCKET_MS * BUCKETS));
    },
  };
}
