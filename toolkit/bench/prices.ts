/**
 * AWS list prices the capacity and cost model uses: the ONE place they are held.
 *
 * Region: eu-west-1 (Europe, Ireland) — the prod stack's region (Pulumi.prod.yaml `aws:region`).
 * Date: read 2026-12-06, on-demand list prices in USD, first pricing tier, no free tier, no savings plans.
 * Moving a price: change it here with its date and page; the model and its tests read nothing else.
 *
 * Sources (checked with the docs search on 2026-12-06; where the page renders its table client-side the
 * excerpt did not show the eu-west-1 figure and the value is the page's published rate as last read — each
 * entry says which):
 * - Lambda: https://aws.amazon.com/lambda/pricing/ — $0.20 per 1M requests (seen in the excerpt); duration
 *   per GB-second for arm64 (the functions run on arm64, infra/processor.ts) $0.0000133334 in eu-west-1
 *   (same as us-east-1; table rendered client-side, not in the excerpt).
 * - DynamoDB on-demand: https://aws.amazon.com/dynamodb/pricing/on-demand/ — unit rules seen in the excerpt
 *   (a standard write unit = 1 KB, a transactional write 2 units, an eventually consistent read of ≤ 4 KB =
 *   ½ unit); eu-west-1 rates after the November 2024 on-demand price cut: $0.7068 per 1M write request
 *   units, $0.1415 per 1M read request units (not in the excerpt).
 * - SNS: https://aws.amazon.com/sns/pricing/ — $0.50 per 1M publish requests and $0.50 per 1M mobile push
 *   deliveries (not in the excerpt); SMS per destination country: https://aws.amazon.com/sns/sms-pricing/.
 * - SES: https://aws.amazon.com/ses/pricing/ — $0.10 per 1,000 outbound e-mails.
 * - Firehose Direct PUT: https://aws.amazon.com/firehose/pricing/ — $0.031 per GB ingested in eu-west-1,
 *   each record rounded up to the next 5 KB.
 * - SQS standard: https://aws.amazon.com/sqs/pricing/ — $0.40 per 1M requests (64 KB chunks).
 * - CloudWatch: https://aws.amazon.com/cloudwatch/pricing/ — Logs ingestion $0.57 per GB in eu-west-1;
 *   PutMetricData $0.01 per 1,000 requests (the seed port calls it per delivery).
 * - S3: https://aws.amazon.com/s3/pricing/ — PUT $0.005 per 1,000 requests (the seed port's analytics objects).
 * - EventBridge Scheduler: https://aws.amazon.com/eventbridge/pricing/ — $1.00 per 1M invocations (a
 *   deferred notification's schedule fires once).
 */

export interface Prices {
    region: string;
    date: string;
    currency: "USD";
    lambda: { perGbSecondArm64: number; perRequest: number };
    dynamodb: { perWriteRequestUnit: number; perReadRequestUnit: number };
    sns: { perPublishRequest: number; perMobilePushDelivery: number };
    ses: { perEmail: number };
    firehose: { perGbIngested: number; recordRoundingBytes: number };
    sqs: { perRequest: number };
    cloudwatch: { perLogGbIngested: number; perPutMetricDataRequest: number };
    s3: { perPutRequest: number };
    scheduler: { perInvocation: number };
    /**
     * What the delivery itself costs beyond AWS's request prices, shown apart from the AWS figures:
     * SMS has a per-message price per destination country plus a carrier fee; APNs and FCM charge nothing.
     */
    carriers: {
        sms: { destination: string; awsPerMessage: number; carrierFeePerMessage: number; source: string };
        push: { apns: number; fcm: number; source: string };
    };
}

const PER_MILLION = 1e-6;

export const PRICES: Prices = {
    region: "eu-west-1",
    date: "2026-12-06",
    currency: "USD",
    lambda: { perGbSecondArm64: 0.0000133334, perRequest: 0.2 * PER_MILLION },
    dynamodb: { perWriteRequestUnit: 0.7068 * PER_MILLION, perReadRequestUnit: 0.1415 * PER_MILLION },
    sns: { perPublishRequest: 0.5 * PER_MILLION, perMobilePushDelivery: 0.5 * PER_MILLION },
    ses: { perEmail: 0.1 / 1000 },
    firehose: { perGbIngested: 0.031, recordRoundingBytes: 5 * 1024 },
    sqs: { perRequest: 0.4 * PER_MILLION },
    cloudwatch: { perLogGbIngested: 0.57, perPutMetricDataRequest: 0.01 / 1000 },
    s3: { perPutRequest: 0.005 / 1000 },
    scheduler: { perInvocation: 1 * PER_MILLION },
    carriers: {
        // An example destination: SMS prices differ by country (and for the US by origination type).
        sms: {
            destination: "United States (10DLC)",
            awsPerMessage: 0.00581,
            carrierFeePerMessage: 0.003,
            source: "https://aws.amazon.com/sns/sms-pricing/ (AWS part per message; carrier fee: the US carriers' 10DLC pass-through fee, ~$0.002–0.004 depending on the carrier)",
        },
        push: {
            apns: 0,
            fcm: 0,
            source: "Apple Push Notification service and Firebase Cloud Messaging charge nothing per message",
        },
    },
};
