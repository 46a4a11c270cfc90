// Render at most once per animation frame, however many deltas arrive in between; under a flood
// of deltas, at most once per `minInterval()` ms, so parsing and applying keep the main thread.
export function createFrameScheduler(render, { minInterval = () => 0 } = {}) {
  let pending = false;
  let lastRender = 0;

  function frame() {
    const wait = lastRender + minInterval() - performance.now();
    if (wait > 1) {
      setTimeout(() => requestAnimationFrame(frame), wait);
      return;
    }
    pending = false;
    lastRender = performance.now();
    render();
  }

  return function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(frame);
  };
}
