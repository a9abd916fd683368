/** The Lambda context object: the one type every processor and the logger use for it. */

export interface LambdaContext {
    awsRequestId?: string;
    functionName?: string;
    functionVersion?: string;
    memoryLimitInMB?: string | number;
    invokedFunctionArn?: string;
    getRemainingTimeInMillis(): number;
}

/** Remaining time of the invocation; a generous default when called outside Lambda without a context. */
export function remainingMs(context: Partial<LambdaContext> | undefined): number {
    return typeof context?.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : 60_000;
}
