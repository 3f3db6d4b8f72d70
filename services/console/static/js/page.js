// What the current view leaves running (polling timers): stopped when the user moves on.

const timers = new Set();
let epoch = 0;

export function every(ms, tick) {
  let stopped = false;
  let handle;
  const run = async () => {
    if (stopped) return;
    try { await tick(); } catch (error) { console.warn(error); }
    if (!stopped) handle = setTimeout(run, ms);
  };
  const stop = () => { stopped = true; clearTimeout(handle); timers.delete(stop); };
  timers.add(stop);
  run();
  return stop;
}

export function leave() {
  epoch += 1;
  for (const stop of [...timers]) stop();
}

// A view that awaits before drawing asks this after each wait: true once the user has moved on
// (so a slow answer never draws over the page that replaced it).
export function ticket() {
  const mine = epoch;
  return () => mine !== epoch;
}
