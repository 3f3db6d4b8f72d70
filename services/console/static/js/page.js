// What the current view leaves running (polling timers): stopped when the user moves on.
import { noticesSaid, notify, reportError } from "./session.js";

const timers = new Set();
let epoch = 0;
// Where the focus was when the page began to load (``leave``): if it is elsewhere by the time
// the page is drawn, the user moved while it loaded, and ``arrive`` leaves it there.
let focusAtLeave = null;

// A failed tick is said on the notice line (a list that cannot load must not look empty), and
// the notice cleared when a later tick succeeds, unless something else was said since.
export function every(ms, tick) {
  let stopped = false;
  let handle;
  let failure = null;  // when this poll's failure was said (``noticesSaid``)
  const run = async () => {
    if (stopped) return;
    try {
      await tick();
      if (failure !== null && noticesSaid() === failure) notify("");
      failure = null;
    } catch (error) {
      if (!stopped) {
        reportError(error);
        failure = noticesSaid();
      }
    }
    if (!stopped) handle = setTimeout(run, ms);
  };
  const stop = () => { stopped = true; clearTimeout(handle); timers.delete(stop); };
  timers.add(stop);
  run();
  return stop;
}

export function leave() {
  epoch += 1;
  focusAtLeave = document.activeElement;
  for (const stop of [...timers]) stop();
}

// Where keyboard and screen-reader users land on a page just drawn (or drawn again after an
// act): the notice, if it says something (what the act did, or why it failed), else the
// page's heading; the window's title names the page (by ``data-title`` where the heading
// names a child: a title goes into the browser's history, on a shared workstation).
export function arrive(view) {
  const heading = view.querySelector("h1");
  const title = heading?.dataset.title ?? heading?.textContent;
  document.title = title ? `${title} — Tifli` : "Tifli — console";
  const active = document.activeElement;
  // A keyboard user who tabbed on while the page loaded (its alert, its history) is not
  // pulled back to its heading.
  if (active && active !== document.body && active !== focusAtLeave) return;
  const notice = document.getElementById("notice");
  if (notice.textContent) return notice.focus();
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: true });
}

// A view that awaits before drawing asks this after each wait: true once the user has moved on
// (so a slow answer never draws over the page that replaced it).
export function ticket() {
  const mine = epoch;
  return () => mine !== epoch;
}
