/**
 * The offline preview: evaluates a Pulumi TypeScript program in-process under the Node SDK's mock
 * runtime, with a stack's config read from its Pulumi.<stack>.yaml and checked against the project's
 * config schema the way the engine checks it, and records every resource registration (type, name,
 * URN, parent, provider, inputs, dependencies). No Pulumi CLI, no provider plugin, no AWS call.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as YAML from "yaml";
import { PreviewResource, PreviewResult } from "./types";

export { PreviewResource, PreviewResult };

/** A problem with the program or its stack files; the message is meant for the user as is. */
export class PreviewError extends Error {}

export interface PreviewOptions {
    /** Directory holding Pulumi.yaml. */
    programDir: string;
    stack: string;
}

/** Stand-in for every `secure:` value of the stack file: the real ciphertext needs the CLI to decrypt. */
export const SECRET_PLACEHOLDER = "offline-preview-secret-placeholder";
const ACCOUNT_ID = "123456789012";
/** Not in the SDK's typings: waits until every resource registration has been answered. */
const runtimeInternals: { waitForRPCs(): Promise<void> } = require("@pulumi/pulumi/runtime/settings");

interface ProjectFile {
    name: string;
    main?: string;
    config?: Record<string, any>;
}

interface ConfigSchema {
    type?: "string" | "integer" | "boolean" | "array";
    default?: unknown;
    value?: unknown;
    secret?: boolean;
}

export function readProject(programDir: string): ProjectFile {
    const file = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(programDir, f)).find((f) => fs.existsSync(f));
    if (!file) throw new PreviewError(`no Pulumi.yaml in ${programDir}`);
    const project = YAML.parse(fs.readFileSync(file, "utf8")) as ProjectFile;
    if (!project?.name) throw new PreviewError(`${file} has no 'name'`);
    return project;
}

/**
 * The stack's config as the engine would hand it to the program: the stack file's values, the project's
 * defaults and values, validated against the project's typed schema (missing keys, wrong types,
 * unencrypted secrets). Returns values keyed `<namespace>:<key>` and the keys that are secret.
 */
export function resolveStackConfig(programDir: string, project: ProjectFile, stack: string) {
    const stackFile = `Pulumi.${stack}.yaml`;
    const stackPath = path.join(programDir, stackFile);
    if (!fs.existsSync(stackPath)) {
        throw new PreviewError(`stack '${stack}' has no ${stackFile} in ${programDir}`);
    }
    let parsed: any;
    try {
        parsed = YAML.parse(fs.readFileSync(stackPath, "utf8")) ?? {};
    } catch (err) {
        throw new PreviewError(`${stackFile} is not valid YAML: ${(err as Error).message}`);
    }
    const qualify = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parsed.config ?? {})) raw[qualify(key)] = value;

    const problems: string[] = [];
    const missing: string[] = [];
    for (const [key, declared] of Object.entries(project.config ?? {})) {
        const full = qualify(key);
        const schema: ConfigSchema =
            declared !== null && typeof declared === "object" && !Array.isArray(declared)
                ? declared
                : { value: declared };
        const fromStack = raw[full];
        if (fromStack === undefined) {
            const fallback = schema.default ?? schema.value;
            if (fallback === undefined) {
                if (schema.type) missing.push(full);
                continue;
            }
            values[full] = stringify(fallback);
            continue;
        }
        if (schema.secret && !isSecure(fromStack)) {
            problems.push(
                `configuration key '${full}' must be encrypted as it's secret (pulumi config set --secret ${key} ...)`,
            );
        }
        if (schema.type && !isSecure(fromStack) && !hasType(fromStack, schema.type)) {
            problems.push(
                `configuration key '${full}' must be of type '${schema.type}', got ${JSON.stringify(fromStack)}`,
            );
        }
    }
    for (const [full, value] of Object.entries(raw)) {
        if (isSecure(value)) {
            values[full] = SECRET_PLACEHOLDER;
            secretKeys.push(full);
        } else {
            values[full] = stringify(value);
        }
    }
    if (missing.length > 0) {
        const keys = missing.map((k) => `'${k}'`).join(", ");
        problems.unshift(`Stack '${stack}' is missing configuration value${missing.length > 1 ? "s" : ""} ${keys}`);
    }
    if (problems.length > 0) {
        throw new PreviewError(`${stackFile}: ${problems.join("; ")}`);
    }
    return { values, secretKeys };
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && "secure" in value;
}

function hasType(value: unknown, type: string): boolean {
    switch (type) {
        case "integer":
            return Number.isInteger(typeof value === "string" ? Number(value) : value);
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        case "array":
            return Array.isArray(value);
        default:
            return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    }
}

function stringify(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Plausible outputs for a resource the mock "creates": ids, ARNs, names and URLs derived from its name. */
function mockState(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, any> {
    const [pkg, mod] = type.split(":");
    const service = (mod ?? "").split("/")[0];
    const physicalName = inputs.name ?? `${name}-${hash(name)}`;
    const state: Record<string, any> = { ...inputs, id: `${physicalName}`, name: physicalName };
    if (pkg === "aws") {
        const arn = (resource: string, global = false) =>
            `arn:aws:${service}:${global ? "" : region}:${ACCOUNT_ID}:${resource}`;
        // ARNs in the shape AWS gives them, so policies built from them can be inspected.
        const arns: Record<string, () => string> = {
            "aws:sns/platformApplication:PlatformApplication": () => arn(`app/${inputs.platform}/${physicalName}`),
            "aws:dynamodb/table:Table": () => arn(`table/${physicalName}`),
            "aws:lambda/function:Function": () => arn(`function:${physicalName}`),
            "aws:cloudwatch/logGroup:LogGroup": () => `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:${physicalName}`,
            "aws:iam/role:Role": () => arn(`role/${physicalName}`, true),
            "aws:iam/policy:Policy": () => arn(`policy/${physicalName}`, true),
            "aws:kms/key:Key": () => arn(`key/${physicalName}`),
            "aws:s3/bucket:Bucket": () => `arn:aws:s3:::${inputs.bucket ?? physicalName}`,
            "aws:scheduler/scheduleGroup:ScheduleGroup": () => arn(`schedule-group/${physicalName}`),
            "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": () =>
                `arn:aws:firehose:${region}:${ACCOUNT_ID}:deliverystream/${physicalName}`,
            "aws:sesv2/emailIdentity:EmailIdentity": () =>
                `arn:aws:ses:${region}:${ACCOUNT_ID}:identity/${inputs.emailIdentity}`,
        };
        state.arn = arns[type]?.() ?? arn(physicalName);
        if (type === "aws:sqs/queue:Queue")
            state.url = `https://sqs.${region}.amazonaws.com/${ACCOUNT_ID}/${physicalName}`;
        if (type === "aws:dynamodb/table:Table") state.streamArn = `${state.arn}/stream/2026-01-01T00:00:00.000`;
        if (type === "aws:kms/key:Key") state.keyId = physicalName;
        if (type === "aws:s3/bucket:Bucket") state.bucket = inputs.bucket ?? physicalName;
    }
    return state;
}

function hash(text: string): string {
    let h = 0;
    for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0;
    return (h >>> 0).toString(16).slice(0, 7);
}

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Turns the wire form of a resource's inputs into plain JSON: secrets become "[secret]", unknowns are
 * dropped, assets and archives keep their text (so a function's shipped code can be inspected), resource
 * references become their URN.
 */
function plain(value: any): any {
    if (value === UNKNOWN) return undefined;
    if (Array.isArray(value)) return value.map(plain).filter((v) => v !== undefined);
    if (value === null || typeof value !== "object") return value;
    switch (value[SIG]) {
        case SECRET_SIG:
            return "[secret]";
        case ASSET_SIG:
            return value.text !== undefined ? { text: value.text } : { path: value.path ?? value.uri };
        case ARCHIVE_SIG:
            return { assets: plain(value.assets ?? {}), path: value.path };
        case RESOURCE_SIG:
            return value.urn;
    }
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(value)) {
        const p = plain(v);
        if (p !== undefined) out[k] = p;
    }
    return out;
}

/**
 * Runs the program in THIS process (the mock runtime is process-global: one program per process).
 * Use previewProgram() to preview from a process that does other things, such as a test run.
 */
export async function runPreview(options: PreviewOptions): Promise<PreviewResult> {
    const programDir = path.resolve(options.programDir);
    const project = readProject(programDir);
    const { values, secretKeys } = resolveStackConfig(programDir, project, options.stack);
    const region = values["aws:region"] ?? "us-east-1";

    const stackUrn = `urn:pulumi:${options.stack}::${project.name}::pulumi:pulumi:Stack::${project.name}-${options.stack}`;
    const resources: PreviewResource[] = [
        {
            type: "pulumi:pulumi:Stack",
            name: `${project.name}-${options.stack}`,
            urn: stackUrn,
            custom: false,
            inputs: {},
            dependencies: [],
            propertyDependencies: {},
        },
    ];
    const mocks: pulumi.runtime.Mocks = {
        newResource: (args) => {
            const state = mockState(args.type, args.name, args.inputs, region);
            return { id: args.custom === false ? undefined : state.id, state };
        },
        call: (args) => {
            switch (args.token) {
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return {
                        accountId: ACCOUNT_ID,
                        arn: `arn:aws:iam::${ACCOUNT_ID}:user/preview`,
                        userId: "preview",
                        id: ACCOUNT_ID,
                    };
                case "aws:index/getRegion:getRegion":
                    return {
                        name: region,
                        region,
                        id: region,
                        description: region,
                        endpoint: `ec2.${region}.amazonaws.com`,
                    };
                case "aws:index/getPartition:getPartition":
                    return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
                default:
                    return args.inputs;
            }
        },
    };
    // Record what the engine would see of each registration: the mock API hides parent and dependencies.
    class RecordingMonitor extends MockMonitor {
        async registerResource(req: any, callback: (err: any, response: any) => void): Promise<void> {
            return super.registerResource(req, (err: any, response: any) => {
                if (!err) {
                    const propertyDependencies: Record<string, string[]> = {};
                    req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
                        propertyDependencies[key] = deps.getUrnsList();
                    });
                    const provider = req.getProvider() || Object.values(req.getProvidersMap().toObject?.() ?? {})[0];
                    resources.push({
                        type: req.getType(),
                        name: req.getName(),
                        urn: response.getUrn(),
                        custom: req.getCustom(),
                        parent: req.getParent() || stackUrn,
                        provider: provider
                            ? String(provider).split("::").slice(0, -1).join("::") || String(provider)
                            : undefined,
                        inputs: plain(req.getObject()?.toJavaScript() ?? {}),
                        dependencies: req.getDependenciesList(),
                        propertyDependencies,
                        ignoreChanges: req.getIgnorechangesList(),
                        protect: req.getProtect(),
                    });
                }
                callback(err, response);
            });
        }
    }
    // What setMocks() does, with the recording monitor in place of the plain one.
    pulumi.runtime.setMockOptions(new RecordingMonitor(mocks), project.name, options.stack, true);
    Object.assign(require("@pulumi/pulumi/runtime/state").getStore(), {
        supportsSecrets: true,
        supportsResourceReferences: true,
        supportsOutputValues: false,
        supportsDeletedWith: true,
        supportsAliasSpecs: true,
        supportsTransforms: false,
    });
    pulumi.runtime.setAllConfig(values, secretKeys);

    // Errors thrown inside apply callbacks surface as rejections, not as exceptions from require().
    const asyncErrors: Error[] = [];
    const onRejection = (reason: unknown) =>
        asyncErrors.push(reason instanceof Error ? reason : new Error(String(reason)));
    process.on("unhandledRejection", onRejection);
    try {
        const entry = path.resolve(programDir, project.main ?? "index.ts");
        let exported: Record<string, unknown>;
        try {
            exported = require(entry);
        } catch (err) {
            throw new PreviewError(errorMessage(err));
        }
        const outputs = await resolveOutputs(exported);
        await runtimeInternals.waitForRPCs();
        if (asyncErrors.length > 0) throw new PreviewError(asyncErrors.map(errorMessage).join("\n"));
        resources[0].inputs = {};
        return { project: project.name, stack: options.stack, resources, outputs };
    } finally {
        process.off("unhandledRejection", onRejection);
    }
}

function errorMessage(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

async function resolveOutputs(exported: Record<string, unknown>): Promise<Record<string, any>> {
    const outputs: Record<string, any> = {};
    for (const [key, value] of Object.entries(exported ?? {})) {
        if (key === "__esModule" || typeof value === "function") continue;
        const resolved = await new Promise<unknown>((resolve) => pulumi.output(value as any).apply((v) => resolve(v)));
        outputs[key] = pulumi.Output.isInstance(value) && (await isSecret(value)) ? "[secret]" : resolved;
    }
    return outputs;
}

async function isSecret(value: pulumi.Output<unknown>): Promise<boolean> {
    return (await (value as any).isSecret) === true;
}

/** Runs the preview in a child process and returns its result: safe to call from tests, any number of times. */
export function previewProgram(options: PreviewOptions): Promise<PreviewResult> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "notify-preview-")), "result.json");
    const worker = path.join(__dirname, "worker.ts");
    return new Promise((resolve, reject) => {
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", worker, path.resolve(options.programDir), options.stack, out],
            { cwd: path.resolve(__dirname, "..", ".."), maxBuffer: 64 * 1024 * 1024 },
            (err, _stdout, stderr) => {
                if (err) return reject(new PreviewError(stderr.trim() || err.message));
                resolve(JSON.parse(fs.readFileSync(out, "utf8")));
            },
        );
    });
}
