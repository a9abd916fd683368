/** E-mail: the address (request, else profile), suppression after a bounce or complaint, the content. */
import { isValidEmail, normalizeEmail } from "../email";
import { directEmail, renderEmail, type EmailContent, type Rendered } from "../templates";
import type { Composer } from "./composer";

export interface EmailDelivery {
    channel: "email";
    to: string;
    content: EmailContent;
}

export const emailComposer: Composer<EmailDelivery, undefined> = {
    channel: "email",
    defaultOptIn: true,
    compose({ request, recipient, profile, variant, values }) {
        const to = recipient.address ?? profile?.email;
        if (!to) return { kind: "fail", reason: "recipient has no e-mail address" };
        if (!isValidEmail(to)) return { kind: "fail", reason: `invalid e-mail address ${to}` };
        if (profile?.emailSuppressed && normalizeEmail(profile.emailSuppressedAddress ?? to) === normalizeEmail(to)) {
            return {
                kind: "suppress",
                reason: `address suppressed: ${profile.emailSuppressedReason ?? "bounce or complaint"}`,
            };
        }
        const content: Rendered<EmailContent> = variant
            ? renderEmail(variant, values)
            : { ok: true, content: directEmail(request.subject, request.body!, request.title) };
        if (!content.ok) return { kind: "fail", reason: content.reason };
        if (!content.content.subject) return { kind: "fail", reason: "e-mail needs a subject (subject or title)" };
        return { kind: "send", delivery: { channel: "email", to, content: content.content } };
    },
};
