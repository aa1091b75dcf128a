// When the mock received something, in epoch ms, strictly increasing within the process: the
// Events Manager page sorts by it, newest first, and two requests answered in the same
// millisecond must still show in the order they arrived.
let last = 0;

/** `Date.now()`, or one more than the previous arrival when the clock has not moved on. */
export const arrivalTime = (): number => {
  last = Math.max(Date.now(), last + 1);
  return last;
};
