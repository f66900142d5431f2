// Client-supplied times (the x-client-timestamp header, DateTime inputs) must fall in a sane
// window before they reach the database: from the Unix epoch to a day ahead of the server's
// clock (clock skew). PostgreSQL cannot store some dates JavaScript accepts (year 275760),
// and no client event happens in 1900 or next year.
import { badInput } from './errors.ts';

export const CLIENT_TIME_WINDOW = { earliest: Date.UTC(1970, 0, 1), aheadMs: 24 * 3600 * 1000 };

export function inClientTimeWindow(date: Date, now = Date.now()): boolean {
  const time = date.getTime();
  return Number.isFinite(time) && time >= CLIENT_TIME_WINDOW.earliest && time <= now + CLIENT_TIME_WINDOW.aheadMs;
}

export const OUT_OF_WINDOW = 'is a time between 1970-01-01T00:00:00Z and a day from now';

/** The date, or BAD_USER_INPUT naming `field` when it is outside the window. */
export function checkClientTime(date: Date, field: string): Date {
  if (!inClientTimeWindow(date)) throw badInput(field, `${field} ${OUT_OF_WINDOW}`);
  return date;
}
