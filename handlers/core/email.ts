/** E-mail address checks: a pragmatic subset of RFC 5321 that SES accepts (ASCII local part). */

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isValidEmail(address: string): boolean {
    if (address.length > 254) return false;
    const at = address.lastIndexOf("@");
    if (at <= 0 || at === address.length - 1) return false;
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    if (local.length > 64 || !LOCAL.test(local)) return false;
    const labels = domain.split(".");
    if (labels.length < 2) return false;
    if (!labels.every((l) => LABEL.test(l))) return false;
    return /^[A-Za-z]{2,63}$/.test(labels[labels.length - 1]) || /^xn--[A-Za-z0-9-]+$/.test(labels[labels.length - 1]);
}

/** Addresses compare case-insensitively for suppression (domains are, and providers fold local parts). */
export function normalizeEmail(address: string): string {
    return address.trim().toLowerCase();
}
