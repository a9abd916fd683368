// Interim body (foundation issue): the real processor comes with the handlers issue. Until then it
// acknowledges nothing, so every record returns to its queue and ends in the DLQ: nothing is lost.
export function pushSender() {
    return async (event: { Records: { messageId: string }[] }) => ({
        batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
    });
}
