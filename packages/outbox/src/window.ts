/** The API drops a repeat of the same Random and content within 5 minutes. */
export const DEDUP_WINDOW_MS = 300_000;

/**
 * A recorded batch is (re-)sent only within this long of its first send: the dedup window minus a minute, which
 * covers clock differences between deliverers and a request still on its way when its call's deadline fires.
 */
export const RESEND_WINDOW_MS = DEDUP_WINDOW_MS - 60_000;
