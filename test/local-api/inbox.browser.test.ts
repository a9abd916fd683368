/**
 * The web inbox in a real browser: Debian's chromium (/usr/bin/chromium; .ci/run installs it) driven by
 * playwright-core, against `--serve` on the dev stack. A notification sent through the API (POST
 * /v1/notifications, SigV4-signed by curl) appears in the page with the unread count and is marked read.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { type LocalApi, startLocalApi } from "../../toolkit/local-api/server";
import { curl } from "./curl";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

describe("web inbox in chromium (playwright-core, --serve)", function () {
    let api: LocalApi;
    let browser: Browser;

    before(async function () {
        if (!fs.existsSync(CHROMIUM))
            throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)`);
        api = await startLocalApi({ stack: "dev" });
        browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    after(async () => {
        await browser?.close();
        await api?.close();
    });

    it("shows a notification sent through the API, with the unread count, and marks it read", async function () {
        const notificationId = `browser-${Date.now().toString(36)}`;
        const title = `Parcel ${notificationId} arrived`;
        const sent = await curl(`${api.url}/v1/notifications`, {
            method: "POST",
            sigv4: { key: api.credentials.accessKeyId, secret: api.credentials.secretAccessKey },
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
                notificationId,
                userId: api.sampleUserId,
                channels: ["inapp"],
                title,
                body: "Pick it up at the front desk",
            }),
        });
        expect(sent.status, sent.body).to.equal(202);

        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (err) => errors.push(err.message));
        await page.goto(`${api.url}/inbox/?token=${encodeURIComponent(api.sampleToken)}`);
        const item = page.locator("li", { hasText: title });
        await item.waitFor();
        expect(await item.getAttribute("class")).to.equal("unread");
        expect(await page.locator("#unread").textContent()).to.equal("1");
        expect(await page.locator("#who").textContent()).to.equal(`signed in as ${api.sampleUserId}`);
        // The token left the address bar.
        expect(new URL(page.url()).search).to.equal("");

        await item.locator("button.mark-read").click();
        await page.locator("li.read", { hasText: title }).waitFor();
        expect(await page.locator("#unread").isHidden()).to.equal(true);
        expect(await page.locator("#status").textContent()).to.equal("All caught up.");
        expect(errors).to.deep.equal([]);
        await page.close();
    });

    it("asks for a token again when the API refuses it (401)", async function () {
        const page = await browser.newPage();
        const foreign = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        await page.goto(`${api.url}/inbox/?token=${foreign}`);
        await page.locator("#signin").waitFor();
        expect(await page.locator("#signin-error").textContent()).to.include("refused");
        await page.close();
    });
});
