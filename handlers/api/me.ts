/**
 * Adapters of the app-user (JWT) routes: one factory per route (each ApiRouteSpec's callbackFactory),
 * each owning its DynamoDB client and reading only its own environment (lib/env.ts PROCESSOR_ENV.me*).
 * The user is always the token's `sub` (core/api/me.ts); the pure cores in core/api/{devices,
 * preferences,inbox}.ts decide everything else. DynamoDB calls per route:
 * - PUT device: UpdateItem (devices) · DELETE device: DeleteItem (devices)
 * - GET preferences: Query (preferences) · PUT preferences: TransactWriteItems + Query (preferences)
 * - GET inbox: Query (inbox) + Query COUNT (inbox/index/byUnread); once per container, KMS GenerateMac
 *   (the cursor key: see cursorKeyOnce)
 * - POST read: UpdateItem (inbox) · POST read-all: Query (byUnread) + UpdateItem per item (inbox)
 */
import {
    DeleteItemCommand,
    DynamoDBClient,
    QueryCommand,
    type QueryCommandInput,
    TransactWriteItemsCommand,
    UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { GenerateMacCommand, KMSClient } from "@aws-sdk/client-kms";
import { type AttributeMap, unmarshall } from "../core/attributes";
import {
    deleteDeviceInput,
    deviceTtlDays,
    parseDeviceId,
    parseDeviceRegistration,
    registerDeviceUpdate,
} from "../core/api/devices";
import { type HttpApiEvent, type HttpApiResult, json, problem } from "../core/api/http";
import {
    CURSOR_KEY_LABEL,
    CURSOR_MAC_ALGORITHM,
    cursorKeyFromMac,
    inboxPage,
    markReadUpdate,
    pageQuery,
    parseItemIdParam,
    parsePageRequest,
    READ_ALL_BATCH,
    unreadQuery,
} from "../core/api/inbox";
import { meCaller } from "../core/api/me";
import { parsePreferencesUpdate, preferencesView, preferencesWrites } from "../core/api/preferences";
import { mapLimit } from "../lib/concurrency";
import { PROCESSOR_ENV, readEnvironment } from "../lib/env";
import type { LambdaContext } from "../lib/lambda";
import { createTelemetry } from "../lib/telemetry";

type Route = (event: HttpApiEvent, context?: LambdaContext) => Promise<HttpApiResult>;
type Body = (event: HttpApiEvent, userId: string) => Promise<HttpApiResult>;

const isConditionFailure = (err: unknown) => (err as Error).name === "ConditionalCheckFailedException";

/**
 * A dependency the route cannot work without is unavailable: answered 503, the caller may retry.
 * A marked Error, not a subclass: a serialized closure's class cannot extend Error faithfully.
 */
function unavailable(message: string, reason: unknown): Error {
    return Object.assign(new Error(message), { name: "Unavailable", unavailable: true, reason });
}
const isUnavailable = (err: unknown): err is Error & { reason: unknown } =>
    (err as { unavailable?: unknown } | undefined)?.unavailable === true;

/**
 * The caller check, then `body`; an unavailable() error is logged and answered 503, any other unexpected
 * error is logged and answered 500 (never its details).
 */
function route(name: string, body: Body): Route {
    const telemetry = createTelemetry();
    return async (event, context) => {
        telemetry.log.addContext(context);
        const caller = meCaller(event);
        if (!caller.ok) return caller.result;
        try {
            return await body(event, caller.value);
        } catch (error) {
            const requestId = event.requestContext?.requestId;
            if (isUnavailable(error)) {
                telemetry.log.error(`${name} unavailable: ${error.message}`, { error: error.reason, requestId });
                return problem(503, "Service unavailable, try again later");
            }
            telemetry.log.error(`${name} failed`, { error, requestId });
            return problem(500, "Internal error");
        }
    };
}

/**
 * The inbox cursor key, derived at most once per container: KMS GenerateMac (HMAC_SHA_256) of the
 * stack's HMAC key over CURSOR_KEY_LABEL; every cursor is then signed and checked locally. Concurrent
 * first requests share one call. A failed derivation is not kept (the next request tries again) and
 * is never replaced by a weaker key: the request fails as unavailable (503).
 */
function cursorKeyOnce(kms: KMSClient, keyId: string): () => Promise<Buffer> {
    const derive = async () => {
        try {
            const out = await kms.send(
                new GenerateMacCommand({
                    KeyId: keyId,
                    MacAlgorithm: CURSOR_MAC_ALGORITHM,
                    Message: Buffer.from(CURSOR_KEY_LABEL, "utf8"),
                }),
            );
            return cursorKeyFromMac(out.Mac);
        } catch (error) {
            throw unavailable("the inbox cursor key could not be derived (KMS GenerateMac)", error);
        }
    };
    let pending: Promise<Buffer> | undefined;
    return () => {
        if (pending) return pending;
        const attempt = derive();
        pending = attempt;
        attempt.catch(() => {
            if (pending === attempt) pending = undefined;
        });
        return attempt;
    };
}

/** Every item of a Query, following LastEvaluatedKey (bounded: a user's rows, not a table). */
async function queryAll(client: DynamoDBClient, input: QueryCommandInput, maxPages = 20) {
    const items: Record<string, unknown>[] = [];
    let count = 0;
    let start: QueryCommandInput["ExclusiveStartKey"];
    for (let page = 0; page < maxPages; page++) {
        const out = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
        for (const item of out.Items ?? []) items.push(unmarshall(item as AttributeMap));
        count += out.Count ?? 0;
        start = out.LastEvaluatedKey;
        if (!start) break;
    }
    return { items, count };
}

/** `PUT /v1/me/devices/{deviceId}` → 200 `{ deviceId, platform }`; 409 when registered with the other platform. */
export function putDevice(): Route {
    const env = readEnvironment(PROCESSOR_ENV.meDevices);
    const ttlDays = deviceTtlDays(env.deviceTtlDays);
    const client = new DynamoDBClient({});
    return route("PUT device", async (event, userId) => {
        const device = parseDeviceRegistration(event);
        if (!device.ok) return device.result;
        const input = registerDeviceUpdate(env.devicesTable, userId, device.value, Date.now(), ttlDays);
        try {
            await client.send(new UpdateItemCommand(input));
        } catch (err) {
            if (!isConditionFailure(err)) throw err;
            return problem(409, "This device id is registered with the other platform: delete it first", [
                { field: "platform", problem: "differs from the registered device's platform" },
            ]);
        }
        return json(200, { deviceId: device.value.deviceId, platform: device.value.platform });
    });
}

/** `DELETE /v1/me/devices/{deviceId}` → 204 (also when there was no such device: idempotent). */
export function deleteDevice(): Route {
    const env = readEnvironment(PROCESSOR_ENV.meDevices);
    const client = new DynamoDBClient({});
    return route("DELETE device", async (event, userId) => {
        const deviceId = parseDeviceId(event);
        if (!deviceId.ok) return deviceId.result;
        await client.send(new DeleteItemCommand(deleteDeviceInput(env.devicesTable, userId, deviceId.value)));
        return { statusCode: 204, headers: {}, body: "" };
    });
}

async function readPreferences(client: DynamoDBClient, table: string, userId: string) {
    const { items } = await queryAll(client, {
        TableName: table,
        KeyConditionExpression: "userId = :user",
        ExpressionAttributeValues: { ":user": { S: userId } },
        ConsistentRead: true,
    });
    return preferencesView(items);
}

/** `GET /v1/me/preferences` → 200 with the preferences object. */
export function getPreferences(): Route {
    const env = readEnvironment(PROCESSOR_ENV.mePreferences);
    const client = new DynamoDBClient({});
    return route("GET preferences", async (_event, userId) =>
        json(200, await readPreferences(client, env.preferencesTable, userId)),
    );
}

/** `PUT /v1/me/preferences` → 200 with the whole preferences object after the change (all or nothing). */
export function putPreferences(): Route {
    const env = readEnvironment(PROCESSOR_ENV.mePreferences);
    const client = new DynamoDBClient({});
    return route("PUT preferences", async (event, userId) => {
        const update = parsePreferencesUpdate(event);
        if (!update.ok) return update.result;
        const writes = preferencesWrites(env.preferencesTable, userId, update.value, Date.now());
        if (writes) await client.send(new TransactWriteItemsCommand(writes));
        return json(200, await readPreferences(client, env.preferencesTable, userId));
    });
}

/** `GET /v1/me/inbox?cursor=&limit=` → 200 `{ items, unreadCount, nextCursor? }`, newest first. */
export function listInbox(): Route {
    const env = readEnvironment(PROCESSOR_ENV.meInboxList);
    const client = new DynamoDBClient({});
    const cursorKey = cursorKeyOnce(new KMSClient({}), env.cursorMacKeyArn);
    return route("GET inbox", async (event, userId) => {
        const key = await cursorKey();
        const page = parsePageRequest(event, key, userId);
        if (!page.ok) return page.result;
        const [out, unread] = await Promise.all([
            client.send(new QueryCommand(pageQuery(env.inboxTable, userId, page.value, Date.now()))),
            queryAll(client, unreadQuery(env.inboxTable, userId, "COUNT"), 50),
        ]);
        const rows = (out.Items ?? []).map((i) => unmarshall(i as AttributeMap));
        const last = out.LastEvaluatedKey?.itemId?.S;
        return json(200, inboxPage(key, userId, rows, last, unread.count));
    });
}

/** `POST /v1/me/inbox/{id}/read` → 200 `{ id, read: true }`; 404 when the caller has no such item. */
export function markInboxItemRead(): Route {
    const env = readEnvironment(PROCESSOR_ENV.meInboxRead);
    const client = new DynamoDBClient({});
    return route("POST inbox read", async (event, userId) => {
        const id = parseItemIdParam(event);
        if (!id.ok) return id.result;
        try {
            await client.send(new UpdateItemCommand(markReadUpdate(env.inboxTable, userId, id.value, Date.now())));
        } catch (err) {
            if (isConditionFailure(err)) return problem(404, "No such inbox item");
            throw err;
        }
        return json(200, { id: id.value, read: true });
    });
}

/**
 * `POST /v1/me/inbox/read-all` → 200 `{ updated }`: up to READ_ALL_BATCH unread items per call (the
 * list's unreadCount tells the app to call again). An item deleted meanwhile (TTL) is not counted.
 */
export function markAllInboxRead(): Route {
    const env = readEnvironment(PROCESSOR_ENV.meInboxRead);
    const client = new DynamoDBClient({});
    return route("POST inbox read-all", async (_event, userId) => {
        const out = await client.send(
            new QueryCommand(unreadQuery(env.inboxTable, userId, "KEYS", READ_ALL_BATCH) as never),
        );
        const ids = (out.Items ?? []).map((i) => (i as AttributeMap & { itemId: { S: string } }).itemId.S);
        const now = Date.now();
        const done = await mapLimit(ids, 10, async (itemId) => {
            try {
                await client.send(new UpdateItemCommand(markReadUpdate(env.inboxTable, userId, itemId, now)));
                return 1;
            } catch (err) {
                if (isConditionFailure(err)) return 0;
                throw err;
            }
        });
        return json(200, { updated: done.reduce((a: number, b: number) => a + b, 0) });
    });
}
