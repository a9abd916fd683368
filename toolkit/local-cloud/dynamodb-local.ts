/**
 * AWS's own DynamoDB Local (the DynamoDBLocal.jar that npm `amplify-dynamodb-simulator` ships), run on
 * the machine's Java 17, in memory, telemetry off, listening on 127.0.0.1 only.
 *
 * DynamoDB Local has no bind-address option, so it is started through LoopbackDynamoDBLocal.java
 * (beside this file), which sets the Jetty connector's host to 127.0.0.1 and its port to 0 before
 * start and prints the port it got. That class is compiled with javac on first use into
 * node_modules/.cache/notify-dynamodb-local/<hash of launcher source + jar>/.
 *
 * One Java process per Node process is enough (it starts in 3-8 s here): sharedDynamoDbLocal() starts
 * it lazily once and every caller reuses it; whoever owns the process stops it with
 * stopSharedDynamoDbLocal() (mocha's root hook, the sandbox/bench command). The Java side also exits
 * when its stdin ends, so a Node process that dies cannot leave it behind.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface DynamoDbLocal {
    /** http://127.0.0.1:<port> */
    endpoint: string;
    port: number;
    pid: number;
    /** Ends the Java process (closes its stdin, then SIGKILL after a grace period); safe to call twice. */
    stop(): Promise<void>;
}

const LAUNCHER_CLASS = "LoopbackDynamoDBLocal";
const LAUNCHER_SOURCE = path.join(__dirname, `${LAUNCHER_CLASS}.java`);
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/** The packages to install on Debian/Ubuntu: named in every "Java is missing" error. */
export const JAVA_PACKAGES = { runtime: "openjdk-17-jre-headless", compiler: "openjdk-17-jdk-headless" };

/** The jar and its libraries inside amplify-dynamodb-simulator. */
export function dynamoDbLocalFiles(): { jar: string; lib: string; dir: string } {
    let pkg: string;
    try {
        pkg = path.dirname(require.resolve("amplify-dynamodb-simulator/package.json"));
    } catch {
        throw new Error("DynamoDB Local: npm package amplify-dynamodb-simulator is not installed (run npm ci)");
    }
    const dir = path.join(pkg, "emulator");
    const files = { jar: path.join(dir, "DynamoDBLocal.jar"), lib: path.join(dir, "DynamoDBLocal_lib"), dir };
    if (!fs.existsSync(files.jar) || !fs.existsSync(files.lib))
        throw new Error(`DynamoDB Local: ${files.jar} or its DynamoDBLocal_lib is missing`);
    return files;
}

function requireTool(tool: "java" | "javac"): void {
    const probe = spawnSync(tool, ["-version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
        const pkg = tool === "java" ? JAVA_PACKAGES.runtime : JAVA_PACKAGES.compiler;
        throw new Error(
            `DynamoDB Local needs Java 17 (\`${tool}\` ${probe.error ? "not found on PATH" : "failed"}): ` +
                `install it, e.g. \`apt-get install -y ${pkg}\` (.ci/run does this on CI)`,
        );
    }
}

/** Compiles the launcher once per (launcher source, jar) into the cache; returns the class directory. */
export function compiledLauncher(): string {
    const { jar, lib, dir } = dynamoDbLocalFiles();
    const source = fs.readFileSync(LAUNCHER_SOURCE);
    const jarStat = fs.statSync(jar);
    const key = createHash("sha256")
        .update(source)
        .update(fs.existsSync(path.join(dir, "sha256")) ? fs.readFileSync(path.join(dir, "sha256")) : "")
        .update(String(jarStat.size))
        .digest("hex")
        .slice(0, 16);
    const cacheRoot = path.join(path.dirname(path.dirname(dir)), ".cache", "notify-dynamodb-local");
    const classes = path.join(cacheRoot, key);
    if (fs.existsSync(path.join(classes, `${LAUNCHER_CLASS}.class`))) return classes;
    requireTool("javac");
    // Compile into a fresh directory and rename: two processes starting at once never see half a class.
    fs.mkdirSync(cacheRoot, { recursive: true });
    const scratch = fs.mkdtempSync(path.join(cacheRoot, `${key}.tmp-`));
    const out = spawnSync(
        "javac",
        ["-nowarn", "-cp", `${jar}${path.delimiter}${path.join(lib, "*")}`, "-d", scratch, LAUNCHER_SOURCE],
        { encoding: "utf8" },
    );
    if (out.status !== 0) {
        fs.rmSync(scratch, { recursive: true, force: true });
        throw new Error(`DynamoDB Local: javac of ${LAUNCHER_SOURCE} failed:\n${out.stderr}${out.stdout}`);
    }
    try {
        fs.renameSync(scratch, classes);
    } catch {
        fs.rmSync(scratch, { recursive: true, force: true }); // another process got there first
    }
    return classes;
}

/** Starts one DynamoDB Local (in memory) on 127.0.0.1 and resolves once it listens. */
export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
    requireTool("java");
    const { jar, lib } = dynamoDbLocalFiles();
    const classes = compiledLauncher();
    const classpath = [classes, jar, path.join(lib, "*")].join(path.delimiter);
    const child = spawn(
        "java",
        [
            `-Djava.library.path=${lib}`,
            // A short-lived test server: the client compiler alone starts faster on two shared cores.
            "-XX:TieredStopAtLevel=1",
            "-cp",
            classpath,
            LAUNCHER_CLASS,
            "-inMemory",
            // Always: by default DynamoDB Local sends start-up telemetry to an AWS endpoint.
            "-disableTelemetry",
        ],
        { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, DDB_LOCAL_TELEMETRY: "0" } },
    );
    const killOnExit = () => child.kill("SIGKILL");
    process.on("exit", killOnExit);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-4_000);
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

    let port: number;
    try {
        port = await waitForPort(child, () => stderr);
    } catch (err) {
        child.kill("SIGKILL");
        process.off("exit", killOnExit);
        throw err;
    }
    // Do not keep the Node process alive for it: when Node exits, stdin ends and Java stops itself.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr])
        (stream as unknown as { unref?: () => void }).unref?.();

    let stopping: Promise<void> | undefined;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        port,
        pid: child.pid!,
        stop() {
            stopping ??= (async () => {
                if (child.exitCode === null && child.signalCode === null) {
                    child.stdin!.end();
                    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
                    await exited;
                    clearTimeout(timer);
                }
                process.off("exit", killOnExit);
            })();
            return stopping;
        },
    };
}

/** Resolves with the port of the launcher's "LISTENING 127.0.0.1:<port>" line; rejects if Java exits first. */
function waitForPort(child: ChildProcess, stderr: () => string): Promise<number> {
    return new Promise((resolve, reject) => {
        let stdout = "";
        const fail = (why: string) => {
            cleanup();
            reject(new Error(`DynamoDB Local did not start: ${why}\n${stderr()}${stdout.slice(-2_000)}`));
        };
        const onData = (chunk: Buffer) => {
            stdout += chunk.toString("utf8");
            const match = /^LISTENING 127\.0\.0\.1:(\d+)$/m.exec(stdout);
            if (match) {
                cleanup();
                child.stdout!.resume(); // keep draining its log so the pipe never fills
                resolve(Number(match[1]));
            }
        };
        const onExit = (code: number | null, signal: string | null) => fail(`java exited (${signal ?? code})`);
        const onError = (err: Error) => fail(err.message);
        const timer = setTimeout(() => fail(`no LISTENING line within ${START_TIMEOUT_MS / 1000}s`), START_TIMEOUT_MS);
        const cleanup = () => {
            clearTimeout(timer);
            child.stdout!.off("data", onData);
            child.off("exit", onExit);
            child.off("error", onError);
        };
        child.stdout!.on("data", onData);
        child.once("exit", onExit);
        child.once("error", onError);
    });
}

let shared: Promise<DynamoDbLocal> | undefined;

/** The process's one DynamoDB Local, started on first use (a failed start is retried by the next caller). */
export function sharedDynamoDbLocal(): Promise<DynamoDbLocal> {
    if (!shared) {
        shared = startDynamoDbLocal();
        shared.catch(() => {
            shared = undefined;
        });
    }
    return shared;
}

/** Stops the shared instance if one was started; the next sharedDynamoDbLocal() starts a new one. */
export async function stopSharedDynamoDbLocal(): Promise<void> {
    const current = shared;
    shared = undefined;
    if (!current) return;
    const instance = await current.catch(() => undefined);
    await instance?.stop();
}
