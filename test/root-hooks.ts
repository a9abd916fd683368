/**
 * Mocha root hooks (loaded by .mocharc.json for every run, one file or all): the test process owns the
 * shared DynamoDB Local that the emulator tests start on first use, so it stops it after the last test.
 */
import { stopSharedDynamoDbLocal } from "../toolkit/local-cloud/dynamodb-local";

export const mochaHooks = {
    async afterAll(): Promise<void> {
        await stopSharedDynamoDbLocal();
    },
};
