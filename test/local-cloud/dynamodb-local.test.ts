/**
 * AWS's DynamoDB Local as the harness runs it: on 127.0.0.1 only (read from the kernel's socket table,
 * not from what the launcher says), one database per world, a clear error without Java, and no Java
 * process left behind by stop() or by a parent that dies.
 */
import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import {
    type DynamoDbLocal,
    JAVA_PACKAGES,
    sharedDynamoDbLocal,
    startDynamoDbLocal,
} from "../../toolkit/local-cloud/dynamodb-local";
import { clientConfig, startEmulators } from "../../toolkit/local-cloud/emulators";

/** Local addresses of the LISTEN sockets on `port`, from /proc/net/tcp and tcp6 (hex, as the kernel keeps them). */
function listeningAddresses(port: number): string[] {
    const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
    const found: string[] = [];
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        if (!fs.existsSync(file)) continue;
        for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
            const [, local, , state] = line.trim().split(/\s+/);
            if (state !== "0A" || !local) continue; // 0A = LISTEN
            const [address, p] = local.split(":");
            if (p === hexPort) found.push(address);
        }
    }
    return found;
}

const LOOPBACK_V4 = "0100007F"; // 127.0.0.1, little-endian
const LOOPBACK_V4_IN_V6 = "0000000000000000FFFF00000100007F"; // ::ffff:127.0.0.1

/** Whether a process runs (an exited one not yet reaped, state Z, has ended too). */
const alive = (pid: number) => {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
        return false;
    }
};

/** Waits (bounded) for a process to be gone: its exit is the event under test, not a timing. */
async function gone(pid: number, withinMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
        if (!alive(pid)) return true;
        await new Promise((r) => setTimeout(r, 50));
    }
    return !alive(pid);
}

describe("harness: DynamoDB Local", function () {
    this.timeout(90_000);
    let local: DynamoDbLocal;
    before(async () => {
        local = await sharedDynamoDbLocal();
    });

    it("listens on 127.0.0.1 only, as the kernel's socket table shows", () => {
        const addresses = listeningAddresses(local.port);
        expect(addresses, `LISTEN sockets on port ${local.port}`).to.have.length.greaterThan(0);
        for (const address of addresses) expect([LOOPBACK_V4, LOOPBACK_V4_IN_V6]).to.include(address);
        expect(local.endpoint).to.equal(`http://127.0.0.1:${local.port}`);
    });

    it("refuses a connection to the machine's non-loopback address", async function () {
        const external = Object.values(os.networkInterfaces())
            .flat()
            .find((i) => i && i.family === "IPv4" && !i.internal);
        if (!external) this.skip(); // no other interface: the socket-table check above is the proof
        const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
            const socket = net.connect({ host: external!.address, port: local.port });
            socket.once("connect", () => {
                socket.destroy();
                resolve(undefined);
            });
            socket.once("error", resolve);
        });
        expect(error?.code).to.equal("ECONNREFUSED");
    });

    it("gives every world a database of its own (another world sees none of its tables)", async () => {
        const [a, b] = [await startEmulators(), await startEmulators()];
        try {
            const client = (e: typeof a) => new DynamoDBClient(clientConfig(e.endpoints, "dynamodb"));
            await client(a).send(
                new CreateTableCommand({
                    TableName: "namespace-probe",
                    BillingMode: "PAY_PER_REQUEST",
                    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
                    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
                }),
            );
            expect((await client(a).send(new ListTablesCommand({}))).TableNames).to.deep.equal(["namespace-probe"]);
            expect((await client(b).send(new ListTablesCommand({}))).TableNames).to.deep.equal([]);
            expect(a.dynamodbCalls).to.deep.equal(["CreateTable", "ListTables"]);
            expect(b.dynamodbCalls).to.deep.equal(["ListTables"]);
        } finally {
            await b.close();
            await a.close();
        }
    });

    it("names the package to install when Java is missing", async () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-java-"));
        const saved = process.env.PATH;
        process.env.PATH = empty;
        try {
            const error = await startDynamoDbLocal().then(
                () => undefined,
                (err: Error) => err,
            );
            expect(error?.message).to.contain("`java` not found on PATH");
            expect(error?.message).to.contain(`apt-get install -y ${JAVA_PACKAGES.runtime}`);
        } finally {
            process.env.PATH = saved;
            fs.rmSync(empty, { recursive: true, force: true });
        }
    });

    it("stop() ends the Java process", async () => {
        const own = await startDynamoDbLocal();
        expect(alive(own.pid)).to.equal(true);
        await own.stop();
        expect(alive(own.pid)).to.equal(false);
    });

    it("ends with its parent: a Node process killed with SIGKILL leaves no Java behind", async () => {
        const root = path.resolve(__dirname, "../..");
        const child = spawn(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                "-e",
                'require("./toolkit/local-cloud/dynamodb-local").startDynamoDbLocal().then((d) => { console.log("PID " + d.pid); setInterval(() => {}, 1000); })',
            ],
            { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
        );
        const pid = await new Promise<number>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (chunk: Buffer) => {
                out += chunk.toString();
                const match = /PID (\d+)/.exec(out);
                if (match) resolve(Number(match[1]));
            });
            child.once("exit", (code) => reject(new Error(`child exited (${code}) before starting DynamoDB Local`)));
        });
        expect(alive(pid)).to.equal(true);
        child.kill("SIGKILL");
        expect(await gone(pid), `java ${pid} outlived its parent`).to.equal(true);
        // And it is not a zombie of ours: pgrep no longer lists it.
        const listed = execFileSync("sh", ["-c", `pgrep -f LoopbackDynamoDBLocal || true`], { encoding: "utf8" });
        expect(listed.split("\n")).to.not.include(String(pid));
    });
});
