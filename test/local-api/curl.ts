/**
 * curl as the independent SigV4 client of the local API tests (curl >= 7.75 signs with --aws-sigv4):
 * the request is signed by code that shares nothing with the server's verifier.
 */
import { execFile } from "node:child_process";

export interface CurlAnswer {
    status: number;
    body: string;
}

export function curl(
    url: string,
    options: {
        method?: string;
        body?: string;
        headers?: Record<string, string>;
        sigv4?: { key: string; secret: string };
    },
): Promise<CurlAnswer> {
    const args = ["-sS", "--max-time", "60", "-X", options.method ?? "GET", "-w", "\n%{http_code}"];
    if (options.sigv4)
        args.push(
            "--aws-sigv4",
            "aws:amz:eu-west-1:execute-api",
            "--user",
            `${options.sigv4.key}:${options.sigv4.secret}`,
        );
    for (const [k, v] of Object.entries(options.headers ?? {})) args.push("-H", `${k}: ${v}`);
    if (options.body !== undefined) args.push("--data-binary", options.body);
    args.push(url);
    return new Promise((resolve, reject) =>
        execFile("curl", args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`curl failed: ${stderr || err.message}`));
            const cut = stdout.lastIndexOf("\n");
            resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
        }),
    );
}
