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
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as YAML from "yaml";
import {
    ConfigValidationError,
    type ProjectDefinition,
    parseConfigKey,
    rewriteShorthandConfigValues,
    stackConfigMap,
    validateProject,
    validateStackConfigAndApplyProjectConfig,
} from "./config";
import { ACCOUNT_ID, answerInvoke } from "./invokes";
import type { GateReport } from "../gate/gate";
import { hostEnvironment } from "./host-env";
import { type CoverageGap, PreviewResource, PreviewResult } from "./types";

export { type CoverageGap, PreviewResource, PreviewResult };

/** A problem with the program or its stack files; the message is meant for the user as is. */
export class PreviewError extends Error {}

export interface PreviewOptions {
    /** Directory holding Pulumi.yaml. */
    programDir: string;
    stack: string;
    /** Seconds the program may keep the event loop busy without finishing (default 300). */
    timeoutSeconds?: number;
}

/** Stand-in for every `secure:` value of the stack file: the real ciphertext needs the CLI to decrypt. */
export const SECRET_PLACEHOLDER = "offline-preview-secret-placeholder";
/** How the CLI prints a stack output whose value is unknown during a preview. */
export const UNKNOWN_OUTPUT = "output<string>";
/** Not in the SDK's typings: waits until every resource registration has been answered. */
const runtimeInternals: { waitForRPCs(): Promise<void> } = require("@pulumi/pulumi/runtime/settings");

export interface ProjectFile extends ProjectDefinition {
    /** The file it was read from. */
    file: string;
    runtimeOptions: Record<string, unknown>;
}

/** Pulumi.yaml, read and checked as the engine loads a project (name, runtime, the config block's rules). */
export function readProject(programDir: string): ProjectFile {
    const file = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(programDir, f)).find((f) => fs.existsSync(f));
    if (!file) {
        throw new PreviewError(
            `no Pulumi.yaml in ${programDir}: not a Pulumi project directory (pulumi looks for Pulumi.yaml there)`,
        );
    }
    let raw: any;
    try {
        raw = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new PreviewError(`${file} is not valid YAML: ${errorMessage(err)}`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw new PreviewError(`${file}: expected project to be an object`);
    }
    const runtime = raw.runtime;
    const project: ProjectFile = {
        file,
        name: typeof raw.name === "string" ? raw.name : "",
        runtime: typeof runtime === "object" && runtime !== null ? runtime.name : runtime,
        runtimeOptions: (typeof runtime === "object" && runtime?.options) || {},
        main: raw.main ?? undefined,
        config: rewriteShorthandConfigValues(typeof raw.name === "string" ? raw.name : "", raw.config),
    };
    try {
        validateProject(project);
    } catch (err) {
        throw new PreviewError(`${file}: ${errorMessage(err)}`);
    }
    return project;
}

/** What to run the `pulumi config set` that fixes a config error with. */
function configHint(project: ProjectFile, stack: string, keys: string[]): string {
    return keys
        .map((key) => {
            const secret = project.config[key]?.secret ? "--secret " : "";
            return `\n    fix: pulumi config set ${secret}${parseConfigKey(project.name, key)} <value> --stack ${stack}`;
        })
        .join("");
}

/**
 * The stack's config as the engine hands it to the program, after the engine's own validation
 * (config.ts): values keyed `<namespace>:<key>` (objects as JSON text) and the keys that are secret.
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
        throw new PreviewError(`${stackPath} is not valid YAML: ${errorMessage(err)}`);
    }
    if (typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new PreviewError(
            `${stackPath}: expected a mapping with a 'config:' block, got ${JSON.stringify(parsed)}`,
        );
    }
    const map = stackConfigMap(project.name, parsed.config);
    try {
        validateStackConfigAndApplyProjectConfig(stack, project, map);
    } catch (err) {
        if (!(err instanceof ConfigValidationError)) throw err;
        throw new PreviewError(
            `${stackFile}: validating stack config: ${err.message}${configHint(project, stack, err.keys)}`,
        );
    }
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of map) {
        if (value.kind === "secure" || (value.kind === "object" && value.secure)) {
            values[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
        } else {
            values[key] = value.kind === "plain" ? value.text : value.json;
        }
    }
    return { values, secretKeys };
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

/** Coverage bookkeeping of one run: which invokes were answered how, which components stayed opaque. */
class Coverage {
    readonly computed = new Map<string, number>();
    private readonly gaps = new Map<string, CoverageGap>();

    invoke(token: string, kind: "computed" | "stand-in" | "unanswered"): void {
        if (kind === "computed") {
            this.computed.set(token, (this.computed.get(token) ?? 0) + 1);
            return;
        }
        const detail =
            kind === "stand-in"
                ? "answered with a plausible stand-in of the right shape; a real preview reads your account"
                : "no offline answer: the invoke got its own inputs back, so values derived from it are not real";
        this.add(`${kind} invoke`, token, undefined, detail);
    }

    remote(type: string, name: string): void {
        const pkg = type.split(":")[0];
        this.add(
            "remote component",
            type,
            name,
            `built by the ${pkg} plugin in a real preview: its children were not created here and not checked`,
        );
    }

    private add(kind: CoverageGap["kind"], token: string, name: string | undefined, detail: string): void {
        const key = `${kind} ${token}`;
        const gap = this.gaps.get(key) ?? { kind, token, count: 0, names: [], detail };
        gap.count++;
        if (name) gap.names.push(name);
        this.gaps.set(key, gap);
    }

    list(): CoverageGap[] {
        return [...this.gaps.values()];
    }
}

/**
 * Catches a program that never finishes: when the event loop drains (or the time budget runs out) while
 * the preview still waits, `stalled` rejects naming what was awaited. Without it Node simply exits 0 with
 * nothing printed — a CI job would read that as a pass.
 */
class Watchdog {
    awaiting = "the program";
    progress = 0;
    private done = false;
    private readonly onBeforeExit: () => void;
    private readonly timer: NodeJS.Timeout;
    readonly stalled: Promise<never>;

    constructor(timeoutSeconds: number) {
        let fail: (err: Error) => void = () => undefined;
        this.stalled = new Promise<never>((_, reject) => {
            fail = reject;
        });
        this.stalled.catch(() => undefined);
        this.onBeforeExit = () => {
            if (this.done) return;
            // Other beforeExit listeners (the SDK registers some) may start more work: judge on the next turn.
            const seen = this.progress;
            setImmediate(() => {
                if (!this.done && this.progress === seen) {
                    fail(
                        new PreviewError(
                            `the program never finished: the event loop drained while the preview was waiting for ${this.awaiting} (a promise that never settles)`,
                        ),
                    );
                }
            });
        };
        process.on("beforeExit", this.onBeforeExit);
        this.timer = setTimeout(() => {
            fail(
                new PreviewError(
                    `the program did not finish within ${timeoutSeconds}s: the preview was waiting for ${this.awaiting}`,
                ),
            );
        }, timeoutSeconds * 1000);
        this.timer.unref();
    }

    async wait<T>(what: string, promise: Promise<T>): Promise<T> {
        this.awaiting = what;
        const value = await Promise.race([promise, this.stalled]);
        this.progress++;
        return value;
    }

    stop(): void {
        this.done = true;
        clearTimeout(this.timer);
        process.off("beforeExit", this.onBeforeExit);
    }
}

/** The ts-node registration the Node language host makes (sdk/nodejs/cmd/run/run.ts), for this program. */
function registerTypeScript(programDir: string, isModule: boolean): void {
    const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
    const skipProject = !fs.existsSync(path.resolve(programDir, tsConfigPath));
    if (skipProject && tsConfigPath !== "tsconfig.json") {
        throw new PreviewError(`tsconfig path was set to ${tsConfigPath} but the file was not found`);
    }
    let compilerOptions: Record<string, unknown> = {};
    if (!skipProject) {
        const ts = require("typescript");
        const file = path.resolve(programDir, tsConfigPath);
        compilerOptions =
            ts.parseConfigFileTextToJson(file, fs.readFileSync(file, "utf8")).config?.compilerOptions ?? {};
    }
    // The engine type-checks unless PULUMI_NODEJS_TRANSPILE_ONLY or `noCheck` says otherwise; offline the
    // default is transpile-only (npm test runs tsc), PULUMI_NODEJS_TRANSPILE_ONLY=false checks as the engine does.
    const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const transpileOnly = env !== undefined ? env === "true" : ((compilerOptions.noCheck as boolean) ?? true);
    const options = {
        compiler: "typescript",
        transpileOnly,
        project: path.resolve(programDir, tsConfigPath),
        skipProject,
        // Files outside the program's folder (this toolkit) keep the registration they were loaded with.
        ignore: ["(?:^|/)node_modules/", "^\\.\\./"],
        compilerOptions: {
            target: isModule ? "ES2022" : "ES2020",
            module: "nodenext",
            moduleResolution: "nodenext",
            sourceMap: "true",
            ...compilerOptions,
        },
    };
    if (isModule) {
        // Automatic ESM mode: the SDK's own loader hooks (ts-node/esm) on Node's module.register API.
        // hooks.js creates its ts-node service when it loads, before `initialize` hands it `data`: what
        // really configures it is the TS_NODE_* environment the loader thread starts with (a copy of ours).
        const saved = { ...process.env };
        delete process.env.TS_NODE_IGNORE;
        Object.assign(process.env, {
            TS_NODE_PROJECT: options.project,
            TS_NODE_SKIP_PROJECT: String(skipProject),
            TS_NODE_TRANSPILE_ONLY: String(transpileOnly),
            TS_NODE_COMPILER_OPTIONS: JSON.stringify(options.compilerOptions),
        });
        try {
            const { register } = require("node:module");
            register(pathToFileURL(require.resolve("@pulumi/pulumi/cmd/run/hooks.js")).href, { data: options });
        } finally {
            for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
            Object.assign(process.env, saved);
        }
    } else {
        require("ts-node").register(options);
    }
}

/**
 * The working directory and entry the engine gives the language host (pulumi/pulumi `getPwdMain`): with
 * `main`, the directory of main (or main itself if it is a folder) — "so that any relative paths inside of
 * the program are correct"; without, the project folder and its package.json `exports`/`main`, else index.*.
 * Deviation: the engine rejects an absolute `main` or one outside the project; the offline preview accepts
 * them so a test can pair a temporary stack file with a program that lives elsewhere.
 */
export function resolveEntry(programDir: string, project: ProjectFile): { pwd: string; entry: string } {
    if (project.main) {
        const main = path.resolve(programDir, project.main);
        if (!fs.existsSync(main)) {
            throw new PreviewError(`${project.file}: project 'main' could not be read: ${main} does not exist`);
        }
        if (!fs.statSync(main).isDirectory()) return { pwd: path.dirname(main), entry: main };
        return { pwd: main, entry: packageEntry(main, project) };
    }
    return { pwd: programDir, entry: packageEntry(programDir, project) };
}

/** run.ts: package.json `exports` / `main`, else the folder's index file. */
function packageEntry(dir: string, project: ProjectFile): string {
    const pkg = readPackageJson(dir);
    const dot = pkg.exports?.["."];
    const exported =
        typeof pkg.exports === "string"
            ? pkg.exports
            : typeof dot === "string"
              ? dot
              : (dot?.default ?? dot?.require ?? dot?.import ?? pkg.main);
    if (typeof exported === "string" && fs.existsSync(path.resolve(dir, exported))) {
        return path.resolve(dir, exported);
    }
    for (const index of ["index.js", "index.mjs", "index.ts", "index.mts"]) {
        if (fs.existsSync(path.join(dir, index))) return path.join(dir, index);
    }
    throw new PreviewError(
        `no entry point in ${dir}: set 'main' in ${project.file}, 'main' in package.json, or add index.ts`,
    );
}

/** run.ts `npmPackageRootFromProgramPath`: the nearest folder up from the program with a package.json. */
function packageRoot(dir: string): string {
    for (let d = dir; ; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, "package.json"))) return d;
        if (path.dirname(d) === d) return dir;
    }
}

function readPackageJson(programDir: string): Record<string, any> {
    const file = path.join(programDir, "package.json");
    if (!fs.existsSync(file)) return {};
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new PreviewError(`${file} is not valid JSON: ${errorMessage(err)}`);
    }
}

/** The environment the engine and the Node language host give the program (PULUMI_NODEJS_* and PULUMI_*). */
function setLanguageHostEnvironment(
    project: ProjectFile,
    stack: string,
    config: Record<string, string>,
    secrets: string[],
) {
    const vars: Record<string, string> = {
        PROJECT: project.name,
        STACK: stack,
        ORGANIZATION: process.env.PULUMI_NODEJS_ORGANIZATION ?? "organization",
        DRY_RUN: "true",
    };
    for (const [name, value] of Object.entries(vars)) {
        process.env[`PULUMI_NODEJS_${name}`] = value;
        process.env[`PULUMI_${name}`] = value;
    }
    if (project.runtimeOptions.typescript !== false) process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
    process.env.PULUMI_CONFIG = JSON.stringify(config);
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(secrets);
}

/**
 * Runs the program in THIS process the way the Node language host runs it: the program's folder as the
 * working directory, its entry, its tsconfig, CommonJS or ES modules, the engine's environment — under the
 * mock runtime (process-global: one program per process; previewProgram() runs it in a child process).
 */
export async function runPreview(options: PreviewOptions): Promise<PreviewResult> {
    const programDir = path.resolve(options.programDir);
    const project = readProject(programDir);
    const { values, secretKeys } = resolveStackConfig(programDir, project, options.stack);
    const region = values["aws:region"] ?? "us-east-1";
    const { pwd, entry } = resolveEntry(programDir, project);
    const isModule = readPackageJson(packageRoot(pwd)).type === "module";

    process.chdir(pwd);
    setLanguageHostEnvironment(project, options.stack, values, secretKeys);
    // This toolkit's own registration already compiles its repository's program with the same tsconfig.
    if (process.env.PULUMI_NODEJS_TYPESCRIPT === "true" && (pwd !== REPO_ROOT || isModule)) {
        registerTypeScript(pwd, isModule);
    }
    const watchdog = new Watchdog(options.timeoutSeconds ?? 300);
    const coverage = new Coverage();
    const { resources, stackUrn } = installMocks(project.name, options.stack, region, values, secretKeys, {
        coverage,
        watchdog,
    });

    // Errors thrown inside apply callbacks surface as rejections, not as exceptions from require().
    const asyncErrors: Error[] = [];
    const onRejection = (reason: unknown) =>
        asyncErrors.push(reason instanceof Error ? reason : new Error(String(reason)));
    process.on("unhandledRejection", onRejection);
    try {
        const relEntry = path.relative(programDir, entry) || entry;
        let outputs: Record<string, any>;
        try {
            const exported = await watchdog.wait(`the program's entry ${relEntry}`, loadProgram(entry, isModule));
            outputs = await resolveOutputs(exported, watchdog);
            await watchdog.wait("resource registrations to be answered", runtimeInternals.waitForRPCs());
        } catch (err) {
            // A stall is often the echo of an error the program raised off the main path: report the error.
            if (asyncErrors.length === 0) throw err;
            throw new PreviewError(`${asyncErrors.map(errorMessage).join("\n")}\n(then: ${errorMessage(err)})`);
        }
        if (asyncErrors.length > 0) throw new PreviewError(asyncErrors.map(errorMessage).join("\n"));
        return {
            project: project.name,
            stack: options.stack,
            resources: resources.map((r) => (r.urn === stackUrn ? { ...r, inputs: {} } : r)),
            outputs,
            computedInvokes: Object.fromEntries(coverage.computed),
            coverage: coverage.list(),
        };
    } finally {
        watchdog.stop();
        process.off("unhandledRejection", onRejection);
    }
}

const REPO_ROOT = path.resolve(__dirname, "..", "..");

// A real import(): under module commonjs TypeScript would compile `import()` into require(), which cannot
// load an ES module (the SDK's run.ts uses the same workaround).
const dynamicImport = new Function("url", "return import(url)") as (url: string) => Promise<Record<string, unknown>>;

/** CommonJS `require` or an ES-module `import`, as run.ts loads the entry; an exported function is called. */
async function loadProgram(entry: string, isModule: boolean): Promise<Record<string, unknown>> {
    let exported: any;
    try {
        if (isModule) {
            exported = await dynamicImport(pathToFileURL(entry).href);
            if (Object.getOwnPropertyDescriptor(exported, "default") !== undefined) {
                if (Object.keys(exported).length !== 1) {
                    throw new Error(
                        "expected entrypoint module to have either a default export or named exports but not both",
                    );
                }
                exported = exported.default;
            }
        } else {
            exported = require(entry);
        }
        return (await (typeof exported === "function" ? exported() : exported)) ?? {};
    } catch (err) {
        if (err instanceof PreviewError) throw err;
        throw new PreviewError(`running program '${entry}' failed with an unhandled exception:\n${errorMessage(err)}`);
    }
}

/** Replaces the engine with the mock monitor, recording every registration as the engine would see it. */
function installMocks(
    project: string,
    stack: string,
    region: string,
    values: Record<string, string>,
    secretKeys: string[],
    { coverage, watchdog }: { coverage: Coverage; watchdog: Watchdog },
) {
    const stackUrn = `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
    const resources: PreviewResource[] = [
        {
            type: "pulumi:pulumi:Stack",
            name: `${project}-${stack}`,
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
            const { kind, result } = answerInvoke(args.token, args.inputs, region);
            coverage.invoke(args.token, kind);
            watchdog.progress++;
            return result;
        },
    };
    // Record what the engine would see of each registration: the mock API hides parent and dependencies.
    class RecordingMonitor extends MockMonitor {
        async registerResource(req: any, callback: (err: any, response: any) => void): Promise<void> {
            return super.registerResource(req, (err: any, response: any) => {
                watchdog.progress++;
                if (!err) {
                    if (req.getRemote()) coverage.remote(req.getType(), req.getName());
                    resources.push(recordOf(req, response, stackUrn));
                }
                callback(err, response);
            });
        }
    }
    // What setMocks() does, with the recording monitor in place of the plain one.
    pulumi.runtime.setMockOptions(new RecordingMonitor(mocks), project, stack, true);
    Object.assign(require("@pulumi/pulumi/runtime/state").getStore(), {
        supportsSecrets: true,
        supportsResourceReferences: true,
        supportsOutputValues: false,
        supportsDeletedWith: true,
        supportsAliasSpecs: true,
        supportsTransforms: false,
    });
    pulumi.runtime.setAllConfig(values, secretKeys);
    return { resources, stackUrn };
}

function recordOf(req: any, response: any, stackUrn: string): PreviewResource {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
        propertyDependencies[key] = deps.getUrnsList();
    });
    const provider = req.getProvider() || Object.values(req.getProvidersMap().toObject?.() ?? {})[0];
    return {
        type: req.getType(),
        name: req.getName(),
        urn: response.getUrn(),
        custom: req.getCustom(),
        parent: req.getParent() || stackUrn,
        provider: provider ? String(provider).split("::").slice(0, -1).join("::") || String(provider) : undefined,
        inputs: plain(req.getObject()?.toJavaScript() ?? {}),
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        ignoreChanges: req.getIgnorechangesList(),
        protect: req.getProtect(),
    };
}

function errorMessage(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

const outputInternals: { isUnknown(v: unknown): boolean } = require("@pulumi/pulumi/output");

/** An output's value with every part unknown during preview shown as the CLI shows it. */
function showUnknowns(value: unknown): unknown {
    if (outputInternals.isUnknown(value)) return UNKNOWN_OUTPUT;
    if (Array.isArray(value)) return value.map(showUnknowns);
    if (value !== null && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, showUnknowns(v)]));
    }
    return value;
}

/** The stack outputs as the engine records them: known values, `output<string>` for unknowns, secrets hidden. */
async function resolveOutputs(exported: Record<string, unknown>, watchdog: Watchdog): Promise<Record<string, any>> {
    const outputs: Record<string, any> = {};
    for (const [key, value] of Object.entries(exported ?? {})) {
        if (key === "__esModule" || typeof value === "function") continue;
        const output = pulumi.output(value as any) as any;
        const [resolved, secret] = await watchdog.wait(
            `stack output '${key}'`,
            Promise.all([output.promise(true) as Promise<unknown>, output.isSecret as Promise<boolean>]),
        );
        outputs[key] = secret ? "[secret]" : showUnknowns(resolved);
    }
    return outputs;
}

/** What the host process (host.ts) is asked to do besides the preview. */
export interface HostOptions {
    timeoutSeconds?: number;
    /** Run the policy gate over the result in the same process (the CLI's case). */
    gate?: boolean;
    /** The directory paths in the gate report are relative to. */
    cwd?: string;
}

/** Runs the preview in a child process and returns its result: safe to call from tests, any number of times. */
export function previewProgram(options: PreviewOptions): Promise<PreviewResult> {
    return runHost(options).then(({ result, error }) => {
        if (error !== undefined) throw new PreviewError(error);
        return result!;
    });
}

/**
 * Starts the language-host process (host.ts) for a program: a fresh Node process, as the engine starts one,
 * with this toolkit compiled by its own ts-node registration and the program left to the program's own.
 */
export function runHost(options: PreviewOptions & HostOptions): Promise<{
    result?: PreviewResult;
    gate?: GateReport;
    gateText?: string;
    error?: string;
    stdout: string;
    stderr: string;
}> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "notify-preview-")), "result.json");
    const programDir = path.resolve(options.programDir);
    const env = hostEnvironment(programDir);
    const args = [
        "-r",
        "ts-node/register/transpile-only",
        path.join(__dirname, "host.ts"),
        programDir,
        options.stack,
        out,
    ];
    args.push(
        JSON.stringify({
            timeoutSeconds: options.timeoutSeconds,
            gate: options.gate,
            cwd: options.cwd,
        } satisfies HostOptions),
    );
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            args,
            { cwd: REPO_ROOT, env, maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) => {
                const written = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) : undefined;
                if (written?.result) return resolve({ ...written, stdout, stderr });
                const error =
                    written?.error ??
                    (err
                        ? `the preview process exited (${err.code ?? err.signal}) without a result:\n${stderr.trim()}`
                        : "no result");
                resolve({ error, stdout, stderr });
            },
        );
    });
}
