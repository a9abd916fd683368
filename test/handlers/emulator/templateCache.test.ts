/**
 * The senders keep the template variants they read for TEMPLATE_CACHE_MS per container: a campaign's
 * batches read the template once, and an edited template reaches new containers at once and warm ones
 * within the cache time.
 */
import { expect } from "chai";
import { TEMPLATE_CACHE_MS } from "../../../handlers/lib/pipeline/templateCache";
import { createWorld, type World } from "./world";

describe("emulator: template cache of the serialized e-mail sender", function () {
    this.timeout(120_000);
    let world: World;
    const template = (subject: string) => ({
        templateId: "digest",
        locale: "en",
        subject,
        html: "<p>{{name}}</p>",
        text: "{{name}}",
        title: subject,
        body: "{{name}}",
        sms: "{{name}}",
    });
    const send = async (notificationId: string) => {
        await world.publishRequest({
            notificationId,
            userId: "tc-ada",
            channels: ["email"],
            template: "digest",
            data: { name: "Ada" },
        });
        await world.drain("email");
    };
    const subjects = async () => (await world.emulators.ses.emails()).map((e: any) => e.subject);

    before(async function () {
        world = await createWorld();
        await world.seedUser({ userId: "tc-ada", email: "ada@example.com" });
        await world.plane.db.putItems(world.plane.tables.templates, [template("Digest v1")]);
        await world.emulators.ses.clear();
    });
    after(async () => world?.close());

    it("a warm container renders what it read; a new container reads the edited template", async function () {
        expect(TEMPLATE_CACHE_MS).to.be.at.least(1_000);
        await send("tc-1");
        await world.plane.db.putItems(world.plane.tables.templates, [template("Digest v2")]);
        await send("tc-2"); // same container, within the cache time: no template read, still v1
        expect(await subjects()).to.deep.equal(["Digest v1", "Digest v1"]);

        // A new container (a cold start of the same shipped code) reads the template again.
        const fresh = world.load("email-sender");
        const request = {
            notificationId: "tc-3",
            userId: "tc-ada",
            channels: ["email"],
            template: "digest",
            data: { name: "Ada" },
        };
        const response = await fresh.invoke({
            Records: [{ messageId: "m-tc-3", body: JSON.stringify(request), messageAttributes: {} }],
        });
        expect(response.batchItemFailures).to.deep.equal([]);
        expect(await subjects()).to.deep.equal(["Digest v1", "Digest v1", "Digest v2"]);
    });
});
