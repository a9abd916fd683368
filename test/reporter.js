// mocha's spec reporter plus one plain closing line, "N passed, N failed", that any CI log reader understands.
const Spec = require("mocha/lib/reporters/spec");

class SpecWithSummary extends Spec {
    constructor(runner, options) {
        super(runner, options);
        runner.once("end", () => {
            const { passes, failures, pending } = this.stats;
            console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ""}`);
        });
    }
}

module.exports = SpecWithSummary;
