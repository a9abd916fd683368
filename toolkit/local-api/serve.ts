/**
 * The `--serve` and `--mint-jwt` modes of `npm run sandbox`: start the local API and print what a
 * newcomer needs (base URL, SigV4 key, a dev JWT, how to mint another), then serve until Ctrl-C.
 */
import { devIssuer, LOCAL_AUDIENCE, LOCAL_ISSUER } from "./jwt";
import { type LocalApi, startLocalApi } from "./server";

export interface ServeOptions {
    stack: string;
    port?: number;
    jwtSecret?: string;
    verbose?: boolean;
}

export function banner(api: LocalApi): string[] {
    const { credentials: c, issuer } = api;
    return [
        `Local API of stack ${api.stack} on ${api.url} (the program's shipped route functions on the local cloud)`,
        ...api.routes.map(
            (r) => `  ${r.routeKey.padEnd(36)} ${r.auth === "iam" ? "SigV4 (AWS_IAM)" : "JWT"}  -> ${r.fn.name}`,
        ),
        "",
        "Producer key (SigV4, region eu-west-1, service execute-api):",
        `  export NOTIFY_API=${api.url}`,
        `  export AWS_ACCESS_KEY_ID=${c.accessKeyId} AWS_SECRET_ACCESS_KEY=${c.secretAccessKey}`,
        "",
        `Dev JWT for the sample user ${api.sampleUserId} (iss ${LOCAL_ISSUER}, aud ${LOCAL_AUDIENCE}, 12 h):`,
        `  export NOTIFY_JWT=${api.sampleToken}`,
        `Dev JWT key (HS256): ${issuer.secret}`,
        "  another user: npm run sandbox -- --mint-jwt <userId> --jwt-secret <the key above>",
        "",
        `Web inbox: ${api.url}/inbox/?token=$NOTIFY_JWT`,
        "Ctrl-C stops the server and the emulators.",
    ];
}

/** Serves until SIGINT/SIGTERM; resolves 0 after closing everything. */
export async function serve(options: ServeOptions): Promise<number> {
    const api = await startLocalApi({ ...options, print: (line) => console.log(line) });
    for (const line of banner(api)) console.log(line);
    await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
    });
    console.log("\nstopping ...");
    await api.close();
    return 0;
}

/** Prints a dev JWT for `sub` signed with the server's printed key. */
export async function mintJwt(sub: string, secret: string): Promise<number> {
    console.log(await devIssuer(secret).mint(sub));
    return 0;
}
