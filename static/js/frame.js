// Render at most once per animation frame, however many deltas arrive in between.
export function createFrameScheduler(render) {
  let pending = false;
  return function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };
}
