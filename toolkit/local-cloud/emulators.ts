/**
 * AWS emulators on 127.0.0.1 for the handler tests, the sandbox and the bench: AWS's DynamoDB Local
 * (DynamoDB and DynamoDB Streams; one Java process per Node process, see dynamodb-local.ts), and
 * in-process fauxqs (SQS + SNS -> SQS fan-out with filter policies) and aws-ses-v2-local (SES v2, read
 * back through its /store). Everything an emulator cannot do (mobile push, SMS, opt-out, Scheduler) is
 * left to aws-sdk-client-mock in the tests (see sdk.ts).
 *
 * Each startEmulators() gets a DynamoDB of its own on the shared DynamoDB Local: a small in-process
 * front (127.0.0.1, port 0) forwards to it with the request's access key replaced by one of its own.
 * DynamoDB Local keeps a separate database per access key and region (its default without -sharedDb)
 * and does not check signatures, so two worlds never see each other's tables, whatever credentials
 * their clients use. The front also counts the operations it forwards (dynamodbCalls).
 */
import { DeleteTableCommand, DynamoDBClient, paginateListTables } from "@aws-sdk/client-dynamodb";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type DynamoDbLocal, sharedDynamoDbLocal } from "./dynamodb-local";
import { registerFauxqsFidelityHook } from "./fauxqs-fidelity";

/** Where each emulator listens, and the region and fake credentials the clients must use. */
export interface EmulatorEndpoints {
    region: string;
    accountId: string;
    /** DynamoDB and DynamoDB Streams (one endpoint, as DynamoDB Local serves both). */
    dynamodb: string;
    /** fauxqs serves SQS and SNS on one port; SQS under the host name its queue URLs use. */
    sqs: string;
    sns: string;
    sesv2: string;
}

/** One e-mail as aws-ses-v2-local stored it. */
export interface StoredEmail {
    messageId: string;
    from: string;
    replyTo: string[];
    destination: { to: string[]; cc: string[]; bcc: string[] };
    subject: string;
    body: { html?: string; text?: string };
    headers?: { name: string; value: string }[];
    at: number;
}

export interface Emulators {
    endpoints: EmulatorEndpoints;
    /**
     * DynamoDB (and DynamoDB Streams) operations sent to this world's DynamoDB, in order, except the
     * harness's own (see HARNESS_HEADER): counted at the front that forwards them to DynamoDB Local, so
     * any client's calls count (the processors' SDK client, or a script's).
     */
    dynamodbCalls: string[];
    /**
     * Injected DynamoDB faults: while any entry returns true for a request (operation, JSON body), the
     * front answers it as DynamoDB does a throttled request (HTTP 400,
     * ProvisionedThroughputExceededException) without forwarding it. Harness requests are never failed.
     */
    dynamodbFaults: DynamoFault[];
    /** The SES store. It is module-global in aws-ses-v2-local: one store per process. */
    ses: { emails(): Promise<StoredEmail[]>; clear(): Promise<void> };
    /** Closes every emulator this call started; safe to call twice. */
    close(): Promise<void>;
}

export interface StartOptions {
    /** Region the emulators report in ARNs and queue URLs (default eu-west-1, the stacks' region). */
    region?: string;
    /** The DynamoDB Local to use (default: the process's shared one, started on first use). */
    dynamoDbLocal?: DynamoDbLocal;
}

export type DynamoFault = (operation: string, body: string) => boolean;

/** Header the harness's own DynamoDB requests carry, so server-side counts leave them out. */
export const HARNESS_HEADER = "x-notify-harness";

/** fauxqs's account id in every ARN and queue URL it creates. */
export const FAUXQS_ACCOUNT_ID = "000000000000";

// `import()` written literally would be compiled to `require()` (module: commonjs), which cannot load
// fauxqs (ESM only). A Function body is left alone by the compiler.
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

function listenUrl(server: Server): string {
    const address = server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
}

function closeServer(server: Server): Promise<void> {
    return new Promise((resolve, reject) => {
        // Keep-alive sockets of the SDK clients would hold close() open until they time out.
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close((err) =>
            err && (err as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING" ? reject(err) : resolve(),
        );
    });
}

/** What a DynamoDB Local access key may look like (it accepts letters and digits). */
function namespaceKey(): string {
    return `NOTIFY${randomBytes(8).toString("hex").toUpperCase()}`;
}

/**
 * The front of one world's DynamoDB: forwards every request to DynamoDB Local under this world's access
 * key and records the operation (x-amz-target) unless the harness sent it. close() deletes the world's
 * tables, so the shared Java process does not keep growing over a test run.
 */
async function startDynamoFront(
    local: DynamoDbLocal,
    region: string,
    calls: string[],
    faults: DynamoFault[],
): Promise<{ url: string; close(): Promise<void> }> {
    const key = namespaceKey();
    const agent = new http.Agent({ keepAlive: true });
    const server = http.createServer(async (req, res) => {
        const target = String(req.headers["x-amz-target"] ?? "");
        const operation = target.split(".").pop() || "Unknown";
        const harness = req.headers[HARNESS_HEADER] === "1";
        if (!harness) calls.push(operation);
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks);
        if (!harness && faults.some((fault) => fault(operation, body.toString("utf8")))) {
            res.writeHead(400, { "content-type": "application/x-amz-json-1.0" });
            res.end(
                JSON.stringify({
                    __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    message: "The level of configured provisioned throughput for the table was exceeded.",
                }),
            );
            return;
        }
        const headers = { ...req.headers, host: `127.0.0.1:${local.port}` };
        if (typeof headers.authorization === "string")
            headers.authorization = headers.authorization.replace(/Credential=[^/,\s]+\//, `Credential=${key}/`);
        const upstream = http.request(
            { host: "127.0.0.1", port: local.port, method: req.method, path: req.url, headers, agent },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        upstream.on("error", (err) => {
            if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
            res.end(`DynamoDB Local unreachable: ${err.message}`);
        });
        upstream.end(body);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    return {
        url: listenUrl(server),
        async close() {
            const db = new DynamoDBClient({
                region,
                endpoint: local.endpoint,
                credentials: { accessKeyId: key, secretAccessKey: "local-emulator-secret" },
            });
            try {
                for await (const page of paginateListTables({ client: db }, {}))
                    for (const table of page.TableNames ?? [])
                        await db.send(new DeleteTableCommand({ TableName: table }));
            } finally {
                db.destroy();
                agent.destroy();
                await closeServer(server);
            }
        },
    };
}

async function startSes(): Promise<Server> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const ses = require("aws-ses-v2-local") as { default: (c: { host: string; port: number }) => Promise<Server> };
    return ses.default({ host: "127.0.0.1", port: 0 });
}

/** Starts all three emulators; if one fails to start, the others are closed before the error is rethrown. */
export async function startEmulators(options: StartOptions = {}): Promise<Emulators> {
    const region = options.region ?? "eu-west-1";
    const closers: (() => Promise<void>)[] = [];
    const closeAll = async () => {
        const pending = closers.splice(0).reverse();
        const results = await Promise.allSettled(pending.map((c) => c()));
        const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
        if (failed) throw failed.reason;
    };
    try {
        const local = options.dynamoDbLocal ?? (await sharedDynamoDbLocal());
        const dynamodbCalls: string[] = [];
        const dynamodbFaults: DynamoFault[] = [];
        const dynamo = await startDynamoFront(local, region, dynamodbCalls, dynamodbFaults);
        closers.push(() => dynamo.close());

        registerFauxqsFidelityHook();
        const fauxqs = await importEsm("fauxqs");
        // fauxqs names its queues http://sqs.<region>.localhost:<port>/..., and SQS clients send each
        // call to its QueueUrl's host whenever no endpoint is in the client config (an env endpoint does
        // not count). So, as in AWS, the SQS endpoint is the queue URLs' host, and *.localhost resolves
        // to 127.0.0.1 while the emulators run (a dns.lookup patch, restored by close()).
        const restoreDns: () => void = fauxqs.interceptLocalhostDns("localhost");
        closers.push(async () => restoreDns());
        const app = fauxqs.buildApp({ logger: false, defaultRegion: region, host: "localhost" });
        const fauxqsUrl: string = await app.listen({ host: "127.0.0.1", port: 0 });
        closers.push(() => app.close());
        const fauxqsPort = new URL(fauxqsUrl).port;

        const sesServer = await startSes();
        closers.push(() => closeServer(sesServer));
        const sesUrl = listenUrl(sesServer);

        const endpoints: EmulatorEndpoints = {
            region,
            accountId: FAUXQS_ACCOUNT_ID,
            dynamodb: dynamo.url,
            sqs: `http://sqs.${region}.localhost:${fauxqsPort}`,
            sns: fauxqsUrl,
            sesv2: sesUrl,
        };
        return {
            endpoints,
            dynamodbCalls,
            dynamodbFaults,
            ses: {
                async emails() {
                    const res = await fetch(`${sesUrl}/store`);
                    if (!res.ok) throw new Error(`SES store read failed: HTTP ${res.status}`);
                    return ((await res.json()) as { emails: StoredEmail[] }).emails;
                },
                async clear() {
                    const res = await fetch(`${sesUrl}/clear-store`, { method: "POST" });
                    if (!res.ok) throw new Error(`SES store clear failed: HTTP ${res.status}`);
                },
            },
            close: closeAll,
        };
    } catch (err) {
        await closeAll().catch(() => undefined);
        throw err;
    }
}

/** The variables useEmulatorEnv sets or clears; restored to their previous values afterwards. */
const MANAGED_ENV = [
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_SESV2",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
] as const;

/**
 * Points the standard SDK v3 environment variables (the only thing the handler adapters read) at the
 * emulators, with fake credentials, and returns a function that restores the previous environment.
 * Shared config files are pointed at /dev/null so a developer's ~/.aws cannot leak into a test.
 */
export function useEmulatorEnv(endpoints: EmulatorEndpoints, extra: Record<string, string> = {}): () => void {
    const saved = new Map<string, string | undefined>();
    for (const key of [...MANAGED_ENV, ...Object.keys(extra)]) saved.set(key, process.env[key]);
    const set: Record<string, string | undefined> = {
        AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
        AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
        AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        AWS_ENDPOINT_URL_SNS: endpoints.sns,
        AWS_ENDPOINT_URL_SESV2: endpoints.sesv2,
        AWS_ENDPOINT_URL: undefined,
        AWS_REGION: endpoints.region,
        AWS_DEFAULT_REGION: endpoints.region,
        AWS_ACCESS_KEY_ID: "AKIDLOCALEMULATOR",
        AWS_SECRET_ACCESS_KEY: "local-emulator-secret",
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true",
        ...extra,
    };
    for (const [key, value] of Object.entries(set)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
    let restored = false;
    return () => {
        if (restored) return;
        restored = true;
        for (const [key, value] of saved) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
    };
}

/** Client configuration for harness-side clients (explicit endpoint, fake credentials). */
export function clientConfig(endpoints: EmulatorEndpoints, service: "dynamodb" | "sqs" | "sns" | "sesv2") {
    return {
        region: endpoints.region,
        endpoint: endpoints[service],
        credentials: { accessKeyId: "AKIDLOCALEMULATOR", secretAccessKey: "local-emulator-secret" },
    };
}

/**
 * Injected fault "the provider accepted the request and answered after the client's timeout", for an
 * HTTP emulator (e.g. SES): a front on 127.0.0.1 that forwards every request to `target`; the next
 * `holdNext(n)` requests are forwarded (the emulator accepts and stores them) but their answer is held
 * until the client gives up and closes its socket (its requestTimeout), then dropped. Deterministic:
 * the client's own timeout ends the wait, not a sleep. `held` counts the answers dropped so far.
 */
export async function startLateAnswerFront(target: string): Promise<{
    url: string;
    holdNext(n: number): void;
    readonly held: number;
    close(): Promise<void>;
}> {
    const upstreamUrl = new URL(target);
    const agent = new http.Agent({ keepAlive: true });
    let toHold = 0;
    let held = 0;
    const server = http.createServer((req, res) => {
        const hold = toHold > 0;
        if (hold) toHold--;
        const upstream = http.request(
            {
                host: upstreamUrl.hostname,
                port: upstreamUrl.port,
                method: req.method,
                path: req.url,
                headers: { ...req.headers, host: upstreamUrl.host },
                agent,
            },
            (answer) => {
                if (!hold) {
                    res.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(res);
                    return;
                }
                answer.resume(); // accepted upstream; the answer never reaches the client
                req.socket.once("close", () => held++);
            },
        );
        upstream.on("error", (err) => {
            if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
            res.end(`upstream unreachable: ${err.message}`);
        });
        req.pipe(upstream);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    return {
        url: listenUrl(server),
        holdNext(n) {
            toHold += n;
        },
        get held() {
            return held;
        },
        async close() {
            agent.destroy();
            await closeServer(server);
        },
    };
}
