/** `npm run sandbox -- --mint-jwt / --serve` flags, through the real entry point (scripts/sandbox.ts). */
import { expect } from "chai";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { devIssuer } from "../../toolkit/local-api/jwt";

const ROOT = path.resolve(__dirname, "..", "..");

function sandbox(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "sandbox.ts"), ...args],
            { cwd: ROOT },
            (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        ),
    );
}

describe("npm run sandbox -- --mint-jwt / --serve flags", function () {
    it("mints a dev JWT for another user with the printed key", async function () {
        const issuer = devIssuer();
        const run = await sandbox(["--mint-jwt", "u-42", "--jwt-secret", issuer.secret]);
        expect(run.code, run.stderr).to.equal(0);
        const { claims } = await issuer.verify(run.stdout.trim());
        expect(claims.sub).to.equal("u-42");
    });

    it("refuses flags that do not go together, with exit code 2", async function () {
        const cases: [string[], RegExp][] = [
            [["--mint-jwt", "u-42"], /--mint-jwt needs --jwt-secret/],
            [["--port", "8080"], /--port needs --serve/],
            [["--serve", "--port", "70000"], /--port must be 1-65535/],
            [["--mint-jwt", "u 42", "--jwt-secret", devIssuer().secret], /is not a user id/],
            [["--serve", "--jwt-secret", "short"], /at least 32 bytes/],
            [["--serve", "--requests", "5"], /do not take --request/],
        ];
        for (const [args, message] of cases) {
            const run = await sandbox(args);
            expect(run.code, args.join(" ")).to.equal(2);
            expect(run.stderr, args.join(" ")).to.match(message);
        }
    });
});
