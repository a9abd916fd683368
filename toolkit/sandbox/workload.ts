/**
 * Deterministic workloads for the sandbox and the bench: users (profile, per-channel preferences,
 * devices), the templates they use and the requests a producer publishes. Everything comes from a
 * seeded PRNG, so two runs (and the seed port beside our processors) see exactly the same users.
 * Quiet hours are placed around `now`, so whether a recipient is deferred does not depend on the clock.
 */
import { CHANNELS as ALL_CHANNELS, type Channel } from "../../handlers/lib/telemetry-names";
import type { SeedUser as WorkloadUser } from "../local-cloud/seed";

export const CHANNELS: Channel[] = [...ALL_CHANNELS];

/** A workload user is a seeded user: the same rows the emulator tests write (toolkit/local-cloud/seed.ts). */
export type { SeedUser as WorkloadUser } from "../local-cloud/seed";

export type WorkloadRequest = Record<string, unknown> & { notificationId: string };

export interface Workload {
    users: WorkloadUser[];
    templates: Record<string, unknown>[];
    requests: WorkloadRequest[];
    /** Phone numbers the SMS provider reports as opted out (the user said STOP). */
    optedOutPhones: string[];
    /** Device tokens whose first publish the provider throttles (both designs see the same ones). */
    throttledTokens: string[];
}

/** mulberry32: small, fast, good enough to pick workload shapes; same sequence on every machine. */
export function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export const TEMPLATES: Record<string, unknown>[] = [
    {
        templateId: "order-shipped",
        locale: "en",
        title: "Order {{orderId}} shipped",
        body: "Your order {{orderId}} is on its way",
        subject: "Your order {{orderId}} has shipped",
        html: "<p>Order <b>{{orderId}}</b> is on its way</p>",
        text: "Order {{orderId}} is on its way",
        sms: "Order {{orderId}} shipped",
    },
    {
        templateId: "order-shipped",
        locale: "de",
        title: "Bestellung {{orderId}} versandt",
        body: "Deine Bestellung {{orderId}} ist unterwegs",
        subject: "Deine Bestellung {{orderId}} wurde versandt",
        html: "<p>Bestellung <b>{{orderId}}</b> ist unterwegs</p>",
        text: "Bestellung {{orderId}} ist unterwegs",
        sms: "Bestellung {{orderId}} versandt",
    },
];

/** "HH:MM" in UTC, `offsetMinutes` from `now`. */
function utcClock(now: number, offsetMinutes: number): string {
    const d = new Date(now + offsetMinutes * 60_000);
    return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

/** Quiet hours that certainly hold `now` (UTC user): the recipient is deferred, whatever the wall clock. */
export function quietHoursAround(now: number) {
    return { start: utcClock(now, -60), end: utcClock(now, 60) };
}

export interface WorkloadOptions {
    users: number;
    seed?: number;
    now?: number;
    /** Prefix of user and notification ids (keeps several workloads apart in one data plane). */
    prefix?: string;
}

export const MAX_WORKLOAD_USERS = 5_000;

/**
 * `users` users with 1-3 devices each and one request per user: mixed channels (explicit lists and
 * "every opted-in channel"), templates in two locales and inline content, a few opt-outs, quiet
 * hours, opted-out phones and throttled device tokens. One request per user, so no rate limit trips.
 */
export function generateWorkload(options: WorkloadOptions): Workload {
    if (!Number.isInteger(options.users) || options.users < 1 || options.users > MAX_WORKLOAD_USERS) {
        throw new Error(`workload: users must be an integer from 1 to ${MAX_WORKLOAD_USERS}, got ${options.users}`);
    }
    const random = prng(options.seed ?? 20_261_121);
    const now = options.now ?? Date.now();
    const prefix = options.prefix ?? "load";
    const pick = <T>(items: [number, T][]): T => {
        let r = random() * items.reduce((n, [w]) => n + w, 0);
        for (const [w, item] of items) {
            r -= w;
            if (r < 0) return item;
        }
        return items[items.length - 1][1];
    };
    const users: WorkloadUser[] = [];
    const requests: WorkloadRequest[] = [];
    const optedOutPhones: string[] = [];
    const throttledTokens: string[] = [];
    for (let i = 0; i < options.users; i++) {
        const userId = `${prefix}-user-${String(i).padStart(5, "0")}`;
        const locale = random() < 0.7 ? "en" : "de";
        const quiet = random() < 0.02;
        const user: WorkloadUser = {
            userId,
            locale,
            timezone: quiet
                ? "UTC"
                : pick([
                      [3, "Europe/Berlin"],
                      [2, "America/New_York"],
                      [1, "Asia/Tokyo"],
                      [1, "UTC"],
                  ]),
            email: random() < 0.95 ? `${userId}@example.com` : undefined,
            phone: random() < 0.7 ? `+4917${String(10_000_000 + i).slice(-8)}` : undefined,
            preferences: {},
            devices: {},
        };
        if (random() < 0.03) user.preferences!.push = { optIn: false };
        if (quiet) user.preferences!.push = { ...user.preferences!.push, quietHours: quietHoursAround(now) };
        if (random() < 0.05) user.preferences!.email = { optIn: false };
        if (user.phone) user.preferences!.sms = { optIn: random() < 0.9 };
        if (user.phone && random() < 0.01) optedOutPhones.push(user.phone);
        // A few in-app opt-outs, by position (no draw: the PRNG sequence, hence every other shape, stays).
        if (i % 37 === 36) user.preferences!.inapp = { optIn: false };
        const deviceCount = 1 + Math.floor(random() * 3);
        for (let d = 0; d < deviceCount; d++) {
            const platform = random() < 0.55 ? "ios" : "android";
            const token = `${platform}-${prefix}-token-${i}-${d}-${Math.floor(random() * 1e9).toString(36)}`;
            user.devices![`${userId}-dev${d}`] = { platform, token };
            if (random() < 0.02) throttledTokens.push(token);
        }
        users.push(user);

        // A producer names SMS only for users it knows have a phone; "every channel" requests (no list)
        // reach every queue and meet the users' real preferences (opt-outs, no phone, quiet hours).
        const withPhone = user.phone !== undefined;
        const channels = pick<Channel[] | undefined>([
            [30, ["push"]],
            [10, ["push", "inapp"]],
            [20, ["push", "email"]],
            [15, ["email"]],
            [10, withPhone ? ["sms"] : ["push"]],
            [10, withPhone ? ["push", "email", "sms"] : ["push", "email"]],
            [5, undefined],
        ]);
        const orderId = `A-${1000 + i}`;
        const request: WorkloadRequest =
            random() < 0.5
                ? {
                      notificationId: `${prefix}-${String(i).padStart(5, "0")}`,
                      userId,
                      template: "order-shipped",
                      data: { orderId },
                  }
                : {
                      notificationId: `${prefix}-${String(i).padStart(5, "0")}`,
                      userId,
                      title: `Order ${orderId} shipped`,
                      subject: `Your order ${orderId} has shipped`,
                      body: `Your order ${orderId} is on its way`,
                  };
        if (channels) request.channels = channels;
        if (random() < 0.1) request.priority = "high";
        requests.push(request);
    }
    return { users, templates: TEMPLATES, requests, optedOutPhones, throttledTokens };
}

/** The sandbox's demo user: preferences, two devices, an e-mail address and a phone. */
export const DEMO_USER: WorkloadUser = {
    userId: "demo-ada",
    email: "ada@example.com",
    phone: "+4917012345678",
    timezone: "Europe/Berlin",
    locale: "en",
    preferences: { push: { optIn: true }, email: { optIn: true }, sms: { optIn: true }, inapp: { optIn: true } },
    devices: {
        "ada-iphone": { platform: "ios", token: "apns-token-ada-iphone" },
        "ada-pixel": { platform: "android", token: "fcm-token-ada-pixel" },
    },
};

/** The sandbox's sample request: a template, every channel the demo user opted in to. */
export function sampleRequest(): WorkloadRequest {
    return {
        notificationId: `sandbox-${Date.now().toString(36)}`,
        userId: DEMO_USER.userId,
        template: "order-shipped",
        data: { orderId: "A-17" },
    };
}

/** The channels a request reaches through the ingress filter policies (see infra/messaging.ts). */
export function routedChannels(request: Record<string, unknown>): Channel[] {
    const named = Array.isArray(request.channels)
        ? (request.channels as unknown[]).filter((c): c is Channel => CHANNELS.includes(c as Channel))
        : [];
    return named.length > 0 ? [...new Set(named)] : [...CHANNELS];
}
