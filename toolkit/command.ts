/**
 * The shell around `npm run sandbox` and `npm run bench`: parse the arguments (a usage error exits 2),
 * run with a deadline (both must finish within two minutes on two cores, so a hang becomes an error,
 * not a stuck terminal), and exit with the run's code.
 */
export class UsageError extends Error {}

export function runCommand<T>(
    name: string,
    deadlineMs: number,
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
    const timer = setTimeout(() => {
        console.error(`\nerror: the ${name} did not finish within ${deadlineMs / 1000}s`);
        process.exit(1);
    }, deadlineMs);
    timer.unref();
    run(options).then(
        (code) => process.exit(code),
        (err) => {
            console.error(`\nerror: ${(err as Error)?.stack ?? String(err)}`);
            process.exit(1);
        },
    );
}
