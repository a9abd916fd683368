/**
 * SDK-side instruments of the harness:
 * - countApiCalls(): counts every AWS API call the functions make, per service and command, by wrapping
 *   `send` of each SDK v3 client class (real or mocked alike; the harness's own clients are ignored),
 *   and DynamoDB calls at the emulators' DynamoDB front when given its request log (whatever client made them).
 * - MobileStandIn: what no emulator does (SNS mobile push endpoints, SMS, opt-out), on
 *   aws-sdk-client-mock, with AWS's documented semantics; SNS topic calls pass through to fauxqs.
 * - KmsStandIn: KMS HMAC keys (GenerateMac, VerifyMac) with a random key per KeyId per run.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
    CheckIfPhoneNumberIsOptedOutCommand,
    CreatePlatformEndpointCommand,
    DeleteEndpointCommand,
    EndpointDisabledException,
    GetEndpointAttributesCommand,
    InvalidParameterException,
    ListPhoneNumbersOptedOutCommand,
    NotFoundException,
    OptedOutException,
    PublishBatchCommand,
    PublishCommand,
    SetEndpointAttributesCommand,
    SetSMSAttributesCommand,
    SNSClient,
} from "@aws-sdk/client-sns";
import { FirehoseClient, PutRecordBatchCommand, PutRecordCommand } from "@aws-sdk/client-firehose";
import {
    ConflictException,
    CreateScheduleCommand,
    DeleteScheduleCommand,
    SchedulerClient,
} from "@aws-sdk/client-scheduler";
import {
    GenerateMacCommand,
    InvalidKeyUsageException,
    KMSClient,
    KMSInvalidMacException,
    NotFoundException as KmsNotFoundException,
    VerifyMacCommand,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";

/** SDK client classes whose calls are counted, where installed. */
const CLIENT_CLASSES: [string, string][] = [
    ["@aws-sdk/client-dynamodb", "DynamoDBClient"],
    ["@aws-sdk/lib-dynamodb", "DynamoDBDocumentClient"],
    ["@aws-sdk/client-sqs", "SQSClient"],
    ["@aws-sdk/client-sns", "SNSClient"],
    ["@aws-sdk/client-sesv2", "SESv2Client"],
    ["@aws-sdk/client-scheduler", "SchedulerClient"],
    ["@aws-sdk/client-firehose", "FirehoseClient"],
    ["@aws-sdk/client-cloudwatch", "CloudWatchClient"],
    ["@aws-sdk/client-s3", "S3Client"],
    ["@aws-sdk/client-kms", "KMSClient"],
];

export interface ApiCall {
    /** e.g. "SNS", "SQS", "DynamoDB", "SESv2" */
    service: string;
    /** e.g. "Publish", "SendEmail" */
    operation: string;
    input: any;
}

export interface ApiCallCounter {
    readonly calls: ApiCall[];
    /** "Service.Operation" -> count. */
    byOperation(): Record<string, number>;
    /** Calls whose service (and operation, if given) match. */
    count(service?: string, operation?: string): number;
    reset(): void;
    /** Puts every wrapped `send` back; call before restoring mocks installed earlier. */
    restore(): void;
}

/**
 * Wraps `send` of every SDK client class. Install AFTER aws-sdk-client-mock's mocks (so mocked calls
 * are counted too) and restore BEFORE restoring them. Clients in `ignore` (the harness's) are not counted.
 */
export function countApiCalls(options: { ignore?: object[]; dynamodbServerCalls?: string[] } = {}): ApiCallCounter {
    const ignored = new WeakSet<object>(options.ignore ?? []);
    const sdkCalls: ApiCall[] = [];
    const server = options.dynamodbServerCalls;
    const serverStart = { at: server?.length ?? 0 };
    const undo: (() => void)[] = [];
    // DynamoDB counted at the server (any client) or at the SDK client, never both.
    const classes = server ? CLIENT_CLASSES.filter(([m]) => !m.includes("dynamodb")) : CLIENT_CLASSES;
    const all = (): ApiCall[] => [
        ...sdkCalls,
        ...(server ?? [])
            .slice(serverStart.at)
            .map((operation) => ({ service: "DynamoDB", operation, input: undefined })),
    ];
    for (const [moduleName, className] of classes) {
        let cls: any;
        try {
            cls = require(moduleName)[className];
        } catch {
            continue; // not installed: nothing can call it
        }
        if (!cls?.prototype) continue;
        const proto = cls.prototype;
        const own = Object.getOwnPropertyDescriptor(proto, "send");
        const inner = proto.send;
        const service = className.replace(/(Document)?Client$/, "");
        proto.send = function (this: object, command: any, ...rest: unknown[]) {
            if (!ignored.has(this)) {
                const operation = String(command?.constructor?.name ?? "Unknown").replace(/Command$/, "");
                sdkCalls.push({ service, operation, input: command?.input });
            }
            return inner.call(this, command, ...rest);
        };
        undo.push(() => {
            if (own) Object.defineProperty(proto, "send", own);
            else delete proto.send;
        });
    }
    return {
        get calls() {
            return all();
        },
        byOperation() {
            const out: Record<string, number> = {};
            for (const c of all()) out[`${c.service}.${c.operation}`] = (out[`${c.service}.${c.operation}`] ?? 0) + 1;
            return out;
        },
        count: (service, operation) =>
            all().filter((c) => (!service || c.service === service) && (!operation || c.operation === operation))
                .length,
        reset: () => {
            sdkCalls.splice(0);
            serverStart.at = server?.length ?? 0;
        },
        restore: () =>
            undo
                .splice(0)
                .reverse()
                .forEach((u) => {
                    u();
                }),
    };
}

export interface PlatformEndpoint {
    arn: string;
    applicationArn: string;
    token: string;
    enabled: boolean;
    customUserData?: string;
}

export interface DeliveredPush {
    targetArn: string;
    platform: string;
    /** The payload for the endpoint's platform, parsed (the APNS / APNS_SANDBOX / GCM value). */
    payload: any;
    messageStructure?: string;
    messageId: string;
}

export interface DeliveredSms {
    phoneNumber: string;
    message: string;
    attributes: Record<string, string>;
    messageId: string;
}

/** Per-platform payload limits (APNs 4 KB, FCM 4 KB data). */
const PAYLOAD_LIMIT_BYTES = 4096;
const E164 = /^\+[1-9]\d{1,14}$/;

const meta = { $metadata: {} };
/** The provider clients' requestTimeout (handlers/lib/backoff PROVIDER_REQUEST_TIMEOUT_MS), for the late-answer message. */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * A local stand-in for SNS mobile push and SMS, built on aws-sdk-client-mock: platform endpoints with
 * CreatePlatformEndpoint's idempotency rules, EndpointDisabled on publish to a disabled endpoint,
 * per-platform payload checks, E.164 and opt-out for SMS. Publish/PublishBatch to a topic (TopicArn)
 * goes to the real client (fauxqs). Tests add input-specific behaviours on `mock` after construction.
 */
export class MobileStandIn {
    readonly mock = mockClient(SNSClient);
    readonly endpoints = new Map<string, PlatformEndpoint>();
    readonly pushes: DeliveredPush[] = [];
    readonly sms: DeliveredSms[] = [];
    readonly optedOut = new Set<string>();
    /**
     * Injected fault "accepted, answered after the client's timeout": the next Publish (mobile push or
     * SMS) matching each entry is delivered, then the client sees what @smithy/node-http-handler throws
     * when its requestTimeout ends first (TimeoutError, code ETIMEDOUT). Each entry is used once.
     */
    readonly lateAnswers: ((input: { TargetArn?: string; PhoneNumber?: string }) => boolean)[] = [];
    private counter = 0;

    constructor() {
        // smithy's Client.send, below the stub aws-sdk-client-mock puts on SNSClient.prototype.
        const realSend = Object.getPrototypeOf(SNSClient.prototype).send as (this: SNSClient, c: any) => Promise<any>;
        const throughToFauxqs = (Command: any) => (input: any, getClient: () => any) =>
            realSend.call(getClient(), new Command(input));

        // Catch-all behaviours first; tests register input-specific ones afterwards.
        this.mock.on(PublishCommand).callsFake((input: any, getClient: () => any) => {
            if (input.TopicArn) return throughToFauxqs(PublishCommand)(input, getClient);
            if (input.TargetArn) return this.answeredLateIfInjected(input, this.publishToEndpoint(input));
            if (input.PhoneNumber) return this.answeredLateIfInjected(input, this.publishSms(input));
            throw new InvalidParameterException({
                message: "Invalid parameter: TopicArn or TargetArn or PhoneNumber",
                ...meta,
            });
        });
        this.mock.on(PublishBatchCommand).callsFake(throughToFauxqs(PublishBatchCommand));
        this.mock.on(CreatePlatformEndpointCommand).callsFake((input: any) => this.createEndpoint(input));
        this.mock.on(GetEndpointAttributesCommand).callsFake((input: any) => {
            const ep = this.endpointOrThrow(input.EndpointArn);
            return {
                Attributes: {
                    Token: ep.token,
                    Enabled: String(ep.enabled),
                    ...(ep.customUserData !== undefined ? { CustomUserData: ep.customUserData } : {}),
                },
            };
        });
        this.mock.on(SetEndpointAttributesCommand).callsFake((input: any) => {
            const ep = this.endpointOrThrow(input.EndpointArn);
            const attrs = input.Attributes ?? {};
            if (attrs.Token !== undefined) ep.token = attrs.Token;
            if (attrs.Enabled !== undefined) ep.enabled = attrs.Enabled === "true";
            if (attrs.CustomUserData !== undefined) ep.customUserData = attrs.CustomUserData;
            return {};
        });
        this.mock.on(DeleteEndpointCommand).callsFake((input: any) => {
            this.endpoints.delete(input.EndpointArn); // idempotent, as in SNS
            return {};
        });
        this.mock.on(CheckIfPhoneNumberIsOptedOutCommand).callsFake((input: any) => {
            if (!E164.test(input.phoneNumber ?? "")) {
                throw new InvalidParameterException({ message: "Invalid parameter: PhoneNumber", ...meta });
            }
            return { isOptedOut: this.optedOut.has(input.phoneNumber) };
        });
        this.mock.on(ListPhoneNumbersOptedOutCommand).callsFake((input: any) => {
            // Pages of 100, as SNS returns them, with nextToken = the offset of the next page.
            const all = [...this.optedOut].sort();
            const start = input.nextToken ? Number(input.nextToken) : 0;
            const page = all.slice(start, start + 100);
            return { phoneNumbers: page, nextToken: start + 100 < all.length ? String(start + 100) : undefined };
        });
        this.mock.on(SetSMSAttributesCommand).resolves({});
    }

    /** Adds an endpoint directly (e.g. one a device registered earlier). */
    addEndpoint(ep: Omit<PlatformEndpoint, "arn"> & { arn?: string }): PlatformEndpoint {
        const arn = ep.arn ?? this.newEndpointArn(ep.applicationArn);
        const endpoint = { ...ep, arn };
        this.endpoints.set(arn, endpoint);
        return endpoint;
    }

    /** Simulates APNs/FCM feedback: SNS disables the endpoint. */
    disable(arn: string): void {
        this.endpointOrThrow(arn).enabled = false;
    }

    restore(): void {
        this.mock.restore();
    }

    private answeredLateIfInjected<T>(input: { TargetArn?: string; PhoneNumber?: string }, answer: T): T {
        const i = this.lateAnswers.findIndex((matches) => matches(input));
        if (i < 0) return answer;
        this.lateAnswers.splice(i, 1);
        throw Object.assign(
            new Error(
                `@smithy/node-http-handler - [ERROR] a request has exceeded the configured ${REQUEST_TIMEOUT_MS} ms requestTimeout.`,
            ),
            { name: "TimeoutError", code: "ETIMEDOUT" },
        );
    }

    private newEndpointArn(applicationArn: string): string {
        // arn:aws:sns:<region>:<account>:app/<PLATFORM>/<name> -> ...:endpoint/<PLATFORM>/<name>/<id>
        const id = `00000000-0000-4000-8000-${String(++this.counter).padStart(12, "0")}`;
        return `${applicationArn.replace(":app/", ":endpoint/")}/${id}`;
    }

    private endpointOrThrow(arn: string): PlatformEndpoint {
        const ep = this.endpoints.get(arn);
        if (!ep) throw new NotFoundException({ message: "Endpoint does not exist", ...meta });
        return ep;
    }

    private createEndpoint(input: any) {
        if (!/:app\/(APNS|APNS_SANDBOX|GCM)\//.test(input.PlatformApplicationArn ?? "")) {
            throw new NotFoundException({ message: "PlatformApplication does not exist", ...meta });
        }
        if (!input.Token) throw new InvalidParameterException({ message: "Invalid parameter: Token", ...meta });
        const existing = [...this.endpoints.values()].find(
            (e) => e.applicationArn === input.PlatformApplicationArn && e.token === input.Token,
        );
        if (existing) {
            // Idempotent only when the attributes match too; otherwise the error names the existing ARN.
            const wanted = input.Attributes ?? {};
            // CustomUserData is a parameter of its own in CreatePlatformEndpoint (Attributes may hold it too).
            const customUserData = input.CustomUserData ?? wanted.CustomUserData;
            const same =
                (customUserData === undefined || customUserData === existing.customUserData) &&
                (wanted.Enabled === undefined || wanted.Enabled === String(existing.enabled));
            if (!same) {
                throw new InvalidParameterException({
                    message: `Invalid parameter: Token Reason: Endpoint ${existing.arn} already exists with the same Token, but different attributes.`,
                    ...meta,
                });
            }
            return { EndpointArn: existing.arn };
        }
        const ep = this.addEndpoint({
            applicationArn: input.PlatformApplicationArn,
            token: input.Token,
            enabled: true,
            customUserData: input.CustomUserData ?? input.Attributes?.CustomUserData,
        });
        return { EndpointArn: ep.arn };
    }

    private publishToEndpoint(input: any) {
        const ep = this.endpointOrThrow(input.TargetArn);
        if (!ep.enabled) throw new EndpointDisabledException({ message: "Endpoint is disabled", ...meta });
        const platform = /:endpoint\/([A-Z_]+)\//.exec(ep.arn)![1];
        let payload: any = input.Message;
        if (input.MessageStructure === "json") {
            let doc: Record<string, unknown>;
            try {
                doc = JSON.parse(input.Message);
            } catch {
                throw new InvalidParameterException({
                    message: "Invalid parameter: Message Structure - JSON message body failed to parse",
                    ...meta,
                });
            }
            const value = doc[platform] ?? doc.default;
            if (typeof value !== "string") {
                throw new InvalidParameterException({
                    message: `Invalid parameter: Message Structure - the value for ${platform} (or default) must be a JSON string`,
                    ...meta,
                });
            }
            if (Buffer.byteLength(value) > PAYLOAD_LIMIT_BYTES) {
                throw new InvalidParameterException({
                    message: `Invalid parameter: Message too long for ${platform}`,
                    ...meta,
                });
            }
            try {
                payload = platform === "GCM" || platform.startsWith("APNS") ? JSON.parse(value) : value;
            } catch {
                throw new InvalidParameterException({
                    message: `Invalid parameter: ${platform} payload is not JSON`,
                    ...meta,
                });
            }
        }
        const messageId = `push-${++this.counter}`;
        this.pushes.push({ targetArn: ep.arn, platform, payload, messageStructure: input.MessageStructure, messageId });
        return { MessageId: messageId };
    }

    private publishSms(input: any) {
        if (!E164.test(input.PhoneNumber))
            throw new InvalidParameterException({ message: "Invalid parameter: PhoneNumber", ...meta });
        if (this.optedOut.has(input.PhoneNumber)) {
            // SNS refuses SMS to an opted-out number.
            throw new OptedOutException({ message: "Phone number is opted out", ...meta });
        }
        const attributes = Object.fromEntries(
            Object.entries((input.MessageAttributes ?? {}) as Record<string, { StringValue?: string }>).map(
                ([k, v]) => [k, v.StringValue ?? ""],
            ),
        );
        const messageId = `sms-${++this.counter}`;
        this.sms.push({ phoneNumber: input.PhoneNumber, message: input.Message, attributes, messageId });
        return { MessageId: messageId };
    }
}

/**
 * Stand-ins for Firehose (the analytics stream: records kept, decoded), EventBridge Scheduler
 * (deferral schedules: kept by group/name; a second CreateSchedule of a name is a ConflictException)
 * and KMS HMAC keys (KmsStandIn: the inbox list route's cursor key).
 */
export class ServiceStandIns {
    readonly firehose = mockClient(FirehoseClient);
    readonly scheduler = mockClient(SchedulerClient);
    readonly kms = new KmsStandIn();
    /** Analytics records, decoded as UTF-8, per stream. */
    readonly analytics: { stream: string; data: string }[] = [];
    readonly schedules = new Map<string, any>();

    constructor() {
        const decode = (data: unknown) => Buffer.from(data as Uint8Array).toString("utf8");
        this.firehose.on(PutRecordBatchCommand).callsFake((input: any) => {
            for (const record of input.Records ?? [])
                this.analytics.push({ stream: input.DeliveryStreamName, data: decode(record.Data) });
            return {
                FailedPutCount: 0,
                Encrypted: true,
                RequestResponses: (input.Records ?? []).map((_: unknown, i: number) => ({
                    RecordId: `r-${this.analytics.length}-${i}`,
                })),
            };
        });
        this.firehose.on(PutRecordCommand).callsFake((input: any) => {
            this.analytics.push({ stream: input.DeliveryStreamName, data: decode(input.Record?.Data) });
            return { RecordId: `r-${this.analytics.length}`, Encrypted: true };
        });
        this.scheduler.on(CreateScheduleCommand).callsFake((input: any) => {
            const key = `${input.GroupName ?? "default"}/${input.Name}`;
            if (this.schedules.has(key))
                throw new ConflictException({
                    message: `Schedule ${input.Name} already exists.`,
                    $metadata: {},
                } as any);
            this.schedules.set(key, input);
            return { ScheduleArn: `arn:aws:scheduler:eu-west-1:000000000000:schedule/${key}` };
        });
        this.scheduler.on(DeleteScheduleCommand).callsFake((input: any) => {
            this.schedules.delete(`${input.GroupName ?? "default"}/${input.Name}`);
            return {};
        });
    }

    restore(): void {
        this.firehose.restore();
        this.scheduler.restore();
        this.kms.restore();
    }
}

export interface MacCall {
    operation: "GenerateMac" | "VerifyMac";
    keyId: string;
    algorithm: string;
    message: string;
}

/** What KMS accepts as a KeyId: a key id, a key ARN, an alias name or an alias ARN. */
const KMS_KEY_ID =
    /^(?:[0-9a-f-]{1,64}|mrk-[0-9a-f]{1,64}|alias\/[\w/+=,.@-]{1,250}|arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(?:key\/[\w-]{1,64}|alias\/[\w/+=,.@-]{1,250}))$/;

/**
 * A local stand-in for KMS HMAC keys (key spec HMAC_256, usage GENERATE_VERIFY_MAC), on
 * aws-sdk-client-mock: GenerateMac and VerifyMac compute HMAC-SHA-256 with a random 32-byte key per
 * KeyId, made on first use and kept for the run (two runs never share a key, as two AWS keys never do).
 * As KMS: another algorithm than HMAC_SHA_256 is InvalidKeyUsageException, a malformed KeyId
 * NotFoundException, a message outside 1-4096 bytes ValidationException, a wrong MAC on VerifyMac
 * KMSInvalidMacException. `failures` injects faults: each entry is thrown by the next call, once.
 */
export class KmsStandIn {
    readonly mock = mockClient(KMSClient);
    /** Every call received, answered or not. */
    readonly calls: MacCall[] = [];
    readonly failures: Error[] = [];
    private readonly keys = new Map<string, Buffer>();

    constructor() {
        // Promises, as the SDK's send returns them (callers may chain .then).
        this.mock.on(GenerateMacCommand).callsFake(async (input: any) => {
            const mac = this.mac("GenerateMac", input);
            return { Mac: new Uint8Array(mac), MacAlgorithm: input.MacAlgorithm, KeyId: this.keyArn(input.KeyId) };
        });
        this.mock.on(VerifyMacCommand).callsFake(async (input: any) => {
            const expected = this.mac("VerifyMac", input);
            const given = Buffer.from(input.Mac ?? []);
            if (given.length !== expected.length || !timingSafeEqual(given, expected))
                throw new KMSInvalidMacException({ message: "The MAC is not valid", ...meta });
            return { MacValid: true, MacAlgorithm: input.MacAlgorithm, KeyId: this.keyArn(input.KeyId) };
        });
    }

    /** GenerateMac calls made with `keyId` (any KeyId when not given). */
    generateMacCalls(keyId?: string): MacCall[] {
        return this.calls.filter((c) => c.operation === "GenerateMac" && (!keyId || c.keyId === keyId));
    }

    restore(): void {
        this.mock.restore();
    }

    private keyArn(keyId: string): string {
        return keyId.startsWith("arn:") ? keyId : `arn:aws:kms:eu-west-1:000000000000:key/${keyId}`;
    }

    private mac(operation: MacCall["operation"], input: any): Buffer {
        const keyId = String(input.KeyId ?? "");
        const message = Buffer.from(input.Message ?? []);
        this.calls.push({ operation, keyId, algorithm: input.MacAlgorithm, message: message.toString("utf8") });
        const fault = this.failures.shift();
        if (fault) throw fault;
        if (!KMS_KEY_ID.test(keyId)) throw new KmsNotFoundException({ message: `Invalid keyId '${keyId}'`, ...meta });
        if (input.MacAlgorithm !== "HMAC_SHA_256")
            throw new InvalidKeyUsageException({
                message: `${input.MacAlgorithm} is not compatible with the key spec HMAC_256 of ${keyId}`,
                ...meta,
            });
        if (message.length < 1 || message.length > 4096)
            throw Object.assign(
                new Error(
                    "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length between 1 and 4096",
                ),
                { name: "ValidationException" },
            );
        if (!this.keys.has(keyId)) this.keys.set(keyId, randomBytes(32));
        return createHmac("sha256", this.keys.get(keyId)!).update(message).digest();
    }
}
