/** Each processor's environment is declared once: infra writes it from the declaration, adapters read it. */
import { expect } from "chai";
import { environmentVariables, PROCESSOR_ENV, readEnvironment, SMS_ENV } from "../../../handlers/lib/env";

describe("lib/env: environments declared once", () => {
    it("writes every given variable under its name and leaves out optional ones not given", () => {
        const vars = environmentVariables(PROCESSOR_ENV.campaignRunner, {
            stage: "dev",
            serviceName: "notify-dev",
            metricsNamespace: "NotifyPlatform",
            logLevel: "DEBUG",
            preferencesTable: "p",
            idempotencyTable: "i",
            ingressTopicArn: "arn:t",
        });
        expect(vars).to.deep.equal({
            NOTIFY_STAGE: "dev",
            POWERTOOLS_SERVICE_NAME: "notify-dev",
            POWERTOOLS_METRICS_NAMESPACE: "NotifyPlatform",
            LOG_LEVEL: "DEBUG",
            PREFERENCES_TABLE: "p",
            IDEMPOTENCY_TABLE: "i",
            INGRESS_TOPIC_ARN: "arn:t",
        });
        expect(environmentVariables(SMS_ENV, {})).to.deep.equal({});
    });

    it("reads what it declared; a missing required variable throws with its name", () => {
        const saved = process.env.SES_FROM_ADDRESS;
        delete process.env.SES_FROM_ADDRESS;
        try {
            expect(() => readEnvironment(PROCESSOR_ENV.emailSender)).to.throw(/is not set/);
            process.env.SMS_SENDER_ID = "";
            expect(readEnvironment(SMS_ENV)).to.deep.equal({ smsSenderId: undefined });
        } finally {
            if (saved !== undefined) process.env.SES_FROM_ADDRESS = saved;
            delete process.env.SMS_SENDER_ID;
        }
    });
});
