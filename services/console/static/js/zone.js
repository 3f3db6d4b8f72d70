// The clock of the alert time zone (the server's TIFLI_ALERT_TIMEZONE, Morocco's by default),
// whatever zone the browser is set to, from the server's table of that zone's UTC offsets
// (time-zone.json) rather than the browser's own time-zone data: a browser's copy is as old
// as the browser, and the times must read as the alert texts partners publish, which the
// server writes from the IANA release it ships.
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

let table = { zone: "UTC", starts_ms: [0], offset_minutes: [0] };

// Fetched once, before the first page is drawn. Without it times show in UTC, labelled so.
export async function loadZone() {
  try {
    const response = await fetch("time-zone.json", { credentials: "omit", cache: "no-cache" });
    if (response.ok) table = await response.json();
  } catch (error) {
    console.warn(error);
  }
}

// The zone's offset from UTC, in minutes, at ``ms`` (ms since the epoch).
export function offsetAt(ms) {
  const starts = table.starts_ms;
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (starts[middle] <= ms) low = middle;
    else high = middle - 1;
  }
  return table.offset_minutes[low];
}

// A Date whose UTC fields read the zone's wall clock at ``ms``: formatted with timeZone "UTC",
// it shows the zone's local time, and no browser time-zone data is used.
export function wallClock(ms) {
  return new Date(ms + offsetAt(ms) * MINUTE);
}

// "UTC+1", "UTC", "UTC+5:30": the offset in force at ``ms``, written out beside each time so
// that no time on screen is ambiguous (the hour the clock goes back happens twice).
export function offsetLabel(ms) {
  const minutes = offsetAt(ms);
  if (!minutes) return "UTC";
  const sign = minutes < 0 ? "-" : "+";
  const hours = Math.floor(Math.abs(minutes) / 60);
  const rest = Math.abs(minutes) % 60;
  return `UTC${sign}${hours}${rest ? `:${String(rest).padStart(2, "0")}` : ""}`;
}

// A datetime-local value ("2026-12-05T03:02") as the instant it names on the zone's clock.
// A reading the clock showed twice (as it went back) is the earlier of the two instants, and
// one it skipped (as it went forward) is read with the offset after the change, the earlier
// of its two readings too: a zone grown from a last-seen time is never too small.
export function fromWallClock(value) {
  const [date, time] = value.split("T");
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute] = time.split(":").map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const offsets = new Set([offsetAt(wall - DAY), offsetAt(wall), offsetAt(wall + DAY)]);
  const instants = [...offsets].map((offset) => wall - offset * MINUTE);
  const shown = instants.filter((ms) => wall - ms === offsetAt(ms) * MINUTE);
  return new Date(Math.min(...(shown.length ? shown : instants)));
}

// "Africa/Casablanca (UTC+1)": what a time field's values are read on, said beside it.
export function clockName(ms = Date.now()) {
  return `${table.zone} (${offsetLabel(ms)})`;
}

// The zone's wall clock at ``ms`` as a datetime-local value.
export function toWallClock(ms) {
  return wallClock(ms).toISOString().slice(0, 16);
}

// Keeps ``hint`` saying the offset in force at the time typed into ``field`` (a time in
// Ramadan is read on UTC+0), and the zone's current one while it is empty. Gives back the
// function that says it, for a value set without typing.
export function followClock(field, hint) {
  const show = () => { hint.textContent = clockName(field.value ? fromWallClock(field.value).getTime() : Date.now()); };
  field.addEventListener("input", show);
  show();
  return show;
}
