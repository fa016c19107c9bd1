// Addresses the admin API takes as secure (shared/src/common/secure_url.rs): https, or http to
// this machine (a local stand-in).

const LOOPBACK = ["127.0.0.1", "localhost", "[::1]"];

/** Whether `text` is an absolute https URL, or http to a loopback host. */
export function secureUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.includes(url.hostname));
  } catch {
    return false;
  }
}
