// Interim body (foundation issue): the real processor comes with the handlers issue. It reports every
// stream record as failed so the event source retries and then sends it to the on-failure queue.
export function deviceMaintenance() {
    return async (event: { Records: { eventID?: string; dynamodb?: { SequenceNumber?: string } }[] }) => ({
        batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? "" })),
    });
}
