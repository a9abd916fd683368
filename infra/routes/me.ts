/**
 * The app-user (JWT) routes of the HTTPS API (issue 11): the user is the token's `sub` and nothing
 * else. Each route is its own function (the Api component makes a Processor per spec) whose role may do
 * exactly the DynamoDB actions its adapter (handlers/api/me.ts) calls, on exactly the table or index
 * it calls them on; its environment is PROCESSOR_ENV.me* of handlers/lib/env.ts.
 *
 * The inbox cursor's MAC key is derived by the list route alone, once per cold start, from the stack's
 * KMS HMAC key (infra/cursorMacKey.ts): its role may call kms:GenerateMac on that key, with HMAC_SHA_256
 * only, and nothing else with it. No key material in config, state or environment.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    deleteDevice,
    getPreferences,
    listInbox,
    markAllInboxRead,
    markInboxItemRead,
    putDevice,
    putPreferences,
} from "../../handlers/api/me";
import { CURSOR_MAC_ALGORITHM, TIME_INDEX, UNREAD_INDEX } from "../../handlers/core/api/inbox";
import { environmentVariables, PROCESSOR_ENV } from "../../handlers/lib/env";
import { METRIC_NAMESPACE, serviceName } from "../../handlers/lib/telemetry-names";
import type { ApiRouteSpec } from "../apiRoute";
import type { TableName } from "../tables";

export interface MeRoutesArgs {
    /** The stack's name (service name, log level). */
    stack: string;
    /** The tables these routes read and write (Storage's `tables`). */
    tables: Pick<Record<TableName, aws.dynamodb.Table>, "devices" | "preferences" | "inbox">;
    /** The KMS HMAC_256 key the inbox list route derives its cursor MAC key from (CursorMacKey's `keyArn`). */
    cursorMacKeyArn: pulumi.Input<string>;
    /** Days a device row lives after its app last registered it (default 270, FCM's staleness limit). */
    deviceTtlDays?: number;
    /** Per-route throttling, by route name; the API's defaults where absent. */
    throttle?: Partial<Record<MeRouteName, { rateLimit: number; burstLimit: number }>>;
}

export const ME_ROUTE_NAMES = [
    "me-devices-put",
    "me-devices-delete",
    "me-preferences-get",
    "me-preferences-put",
    "me-inbox-list",
    "me-inbox-read-item",
    "me-inbox-read-all",
] as const;
export type MeRouteName = (typeof ME_ROUTE_NAMES)[number];

/** Each route's handler factory (handlers/api/me.ts); the bench finds a route function's code by it. */
export const ME_ROUTE_FACTORIES: Record<MeRouteName, ApiRouteSpec["callbackFactory"]> = {
    "me-devices-put": putDevice,
    "me-devices-delete": deleteDevice,
    "me-preferences-get": getPreferences,
    "me-preferences-put": putPreferences,
    "me-inbox-list": listInbox,
    "me-inbox-read-item": markInboxItemRead,
    "me-inbox-read-all": markAllInboxRead,
};

type Statement = ApiRouteSpec["statements"][number];

function dynamo(sid: string, actions: string[], resource: pulumi.Input<string>): Statement {
    return { Sid: sid, Effect: "Allow", Action: actions.map((a) => `dynamodb:${a}`), Resource: resource };
}

/** GenerateMac with the cursor key, HMAC-SHA-256 only: the list route's derivation of its cursor key. */
function cursorMac(keyArn: pulumi.Input<string>): Statement {
    return {
        Sid: "DeriveCursorKey",
        Effect: "Allow",
        Action: ["kms:GenerateMac"],
        Resource: keyArn,
        Condition: { StringEquals: { "kms:MacAlgorithm": CURSOR_MAC_ALGORITHM } },
    };
}

type Env = ApiRouteSpec["environment"];
type Input = pulumi.Input<string>;

/** Each route group's environment (PROCESSOR_ENV.me*): only the variables its adapter reads. */
function routeEnvironments(args: MeRoutesArgs) {
    const { devices, preferences, inbox } = args.tables;
    const base: Record<"stage" | "serviceName" | "metricsNamespace" | "logLevel", Input> = {
        stage: args.stack,
        serviceName: serviceName(args.stack),
        metricsNamespace: METRIC_NAMESPACE,
        logLevel: args.stack === "prod" ? "INFO" : "DEBUG",
    };
    const deviceTtlDays = args.deviceTtlDays === undefined ? undefined : String(args.deviceTtlDays);
    return {
        devices: environmentVariables<typeof PROCESSOR_ENV.meDevices, Input>(PROCESSOR_ENV.meDevices, {
            ...base,
            devicesTable: devices.name,
            deviceTtlDays,
        }),
        preferences: environmentVariables<typeof PROCESSOR_ENV.mePreferences, Input>(PROCESSOR_ENV.mePreferences, {
            ...base,
            preferencesTable: preferences.name,
        }),
        inboxRead: environmentVariables<typeof PROCESSOR_ENV.meInboxRead, Input>(PROCESSOR_ENV.meInboxRead, {
            ...base,
            inboxTable: inbox.name,
        }),
        // Only the list route signs and checks cursors: it alone names the key it derives them from.
        inboxList: environmentVariables<typeof PROCESSOR_ENV.meInboxList, Input>(PROCESSOR_ENV.meInboxList, {
            ...base,
            inboxTable: inbox.name,
            cursorMacKeyArn: args.cursorMacKeyArn,
        }),
    };
}

type RouteRow = [MeRouteName, string, string, Statement[], Env];

/**
 * The specs of the seven /v1/me routes, for the Api component. Over 80 lines on purpose: it is the route
 * table itself, one row per route with its permissions beside it, and reads best whole.
 */
export function meRoutes(args: MeRoutesArgs): ApiRouteSpec[] {
    const { devices, preferences, inbox } = args.tables;
    const env = routeEnvironments(args);
    const unread = pulumi.interpolate`${inbox.arn}/index/${UNREAD_INDEX}`;
    const byTime = pulumi.interpolate`${inbox.arn}/index/${TIME_INDEX}`;
    // [name, route key, description, statements, environment]; the factory is ME_ROUTE_FACTORIES[name]
    const rows: RouteRow[] = [
        [
            "me-devices-put",
            "PUT /v1/me/devices/{deviceId}",
            "Registers the caller's device token",
            [dynamo("RegisterOwnDevice", ["UpdateItem"], devices.arn)],
            env.devices,
        ],
        [
            "me-devices-delete",
            "DELETE /v1/me/devices/{deviceId}",
            "Removes one of the caller's devices",
            [dynamo("RemoveOwnDevice", ["DeleteItem"], devices.arn)],
            env.devices,
        ],
        [
            "me-preferences-get",
            "GET /v1/me/preferences",
            "Reads the caller's preferences",
            [dynamo("ReadOwnPreferences", ["Query"], preferences.arn)],
            env.preferences,
        ],
        // TransactWriteItems is authorized as UpdateItem per item; the answer is read back with Query.
        [
            "me-preferences-put",
            "PUT /v1/me/preferences",
            "Changes the caller's preferences",
            [dynamo("WriteOwnPreferences", ["UpdateItem", "Query"], preferences.arn)],
            env.preferences,
        ],
        [
            "me-inbox-list",
            "GET /v1/me/inbox",
            "Lists the caller's inbox, newest first, with the unread count",
            [
                dynamo("ListOwnInbox", ["Query"], byTime),
                dynamo("CountOwnUnread", ["Query"], unread),
                cursorMac(args.cursorMacKeyArn),
            ],
            env.inboxList,
        ],
        [
            "me-inbox-read-item",
            "POST /v1/me/inbox/{id}/read",
            "Marks one of the caller's inbox items read",
            [dynamo("MarkOwnItemRead", ["UpdateItem"], inbox.arn)],
            env.inboxRead,
        ],
        [
            "me-inbox-read-all",
            "POST /v1/me/inbox/read-all",
            "Marks the caller's unread inbox items read",
            [dynamo("FindOwnUnread", ["Query"], unread), dynamo("MarkOwnItemsRead", ["UpdateItem"], inbox.arn)],
            env.inboxRead,
        ],
    ];
    return rows.map(([name, routeKey, description, statements, environment]) => {
        const throttle = args.throttle?.[name];
        return {
            routeKey,
            auth: "jwt",
            name,
            description,
            callbackFactory: ME_ROUTE_FACTORIES[name],
            statements,
            environment,
            ...(throttle ? { throttle } : {}),
        };
    });
}
