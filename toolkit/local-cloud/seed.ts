/**
 * The rows that describe a user in the data model (infra/tables.ts): the preferences `profile` row, one
 * row per channel preference, one devices row per device and the per-user `#summary` item the push
 * sender reads. The emulator tests, the sandbox and the bench seed users through this one function.
 */
import { SUMMARY_DEVICE_ID } from "../../handlers/core/endpoints";
import type { Channel } from "../../handlers/lib/telemetry-names";

export interface SeedDevice {
    platform: "ios" | "android";
    token: string;
    enabled?: boolean;
}

export interface SeedUser {
    userId: string;
    email?: string;
    phone?: string;
    timezone?: string;
    locale?: string;
    /** Per channel: opt-in and quiet hours. */
    preferences?: Partial<Record<Channel, { optIn?: boolean; quietHours?: { start: string; end: string } }>>;
    /** deviceId -> device. */
    devices?: Record<string, SeedDevice>;
}

/** `endpointFor` registers the device's platform endpoint (in the push stand-in) and returns its ARN. */
export function userRows(user: SeedUser, endpointFor: (device: SeedDevice) => string) {
    const preferences: Record<string, unknown>[] = [
        {
            userId: user.userId,
            channel: "profile",
            timezone: user.timezone ?? "UTC",
            locale: user.locale ?? "en",
            email: user.email,
            phone: user.phone,
        },
        ...Object.entries(user.preferences ?? {}).map(([channel, pref]) => ({ userId: user.userId, channel, ...pref })),
    ];
    const devices: Record<string, unknown>[] = [];
    if (user.devices) {
        const summary: Record<string, unknown> = {};
        for (const [deviceId, device] of Object.entries(user.devices)) {
            const enabled = device.enabled ?? true;
            const endpointArn = endpointFor(device);
            devices.push({
                userId: user.userId,
                deviceId,
                platform: device.platform,
                token: device.token,
                endpointArn,
                enabled,
            });
            summary[deviceId] = { platform: device.platform, endpointArn, enabled };
        }
        devices.push({ userId: user.userId, deviceId: SUMMARY_DEVICE_ID, devices: summary });
    }
    return { preferences, devices };
}
