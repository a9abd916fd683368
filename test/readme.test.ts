import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { readmeWithReference } from "../scripts/config-reference";

describe("README", function () {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

    it("starts with the two commands a fresh machine needs", function () {
        const firstBlock = readme.slice(readme.indexOf("```"), readme.indexOf("```", readme.indexOf("```") + 3));
        expect(firstBlock).to.include("npm ci && npm start").and.to.include("npm test");
    });

    it("documents every setting of Pulumi.yaml as the stack files set it (regenerate: scripts/config-reference.ts)", function () {
        expect(readmeWithReference(readme)).to.equal(readme);
    });
});
