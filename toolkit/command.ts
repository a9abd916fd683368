/**
 * The shell around `npm run sandbox` and `npm run bench`: parse the arguments (a usage error exits 2),
 * run (the sandbox with a deadline, so a hang becomes an error, not a stuck terminal; the bench without
 * one, since a benchmark reports rather than fails on wall time), and exit with the run's code.
 */
import { stopSharedDynamoDbLocal } from "./local-cloud/dynamodb-local";

export class UsageError extends Error {}

export function runCommand<T>(
    name: string,
    deadlineMs: number | undefined,
    parse: () => T,
    run: (options: T) => Promise<number>,
): void {
    // The SDK warns once per process that its 2027 releases need Node 22 (Lambda runs nodejs22.x; the
    // header prints the Node version): not news for a local run.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    let options: T;
    try {
        options = parse();
    } catch (err) {
        console.error(`error: ${(err as Error).message}`);
        process.exit(2);
    }
    if (deadlineMs !== undefined) {
        setTimeout(() => {
            console.error(`\nerror: the ${name} did not finish within ${deadlineMs / 1000}s`);
            process.exit(1);
        }, deadlineMs).unref();
    }
    // The command owns the DynamoDB Local it started (if any): stopped before the exit, whatever the
    // outcome (on the deadline's process.exit, the process's exit hook kills it).
    const exit = (code: number) =>
        stopSharedDynamoDbLocal().then(
            () => process.exit(code),
            (err) => {
                console.error(`error: stopping DynamoDB Local: ${(err as Error).message}`);
                process.exit(code || 1);
            },
        );
    run(options).then(exit, (err) => {
        console.error(`\nerror: ${(err as Error)?.stack ?? String(err)}`);
        return exit(1);
    });
}
