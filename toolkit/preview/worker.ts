// Child-process entry of previewProgram(): argv = <programDir> <stack> <result.json>.
import * as fs from "node:fs";
import { runPreview } from "./preview";

const [programDir, stack, out] = process.argv.slice(2);
runPreview({ programDir, stack }).then(
    (result) => fs.writeFileSync(out, JSON.stringify(result)),
    (err) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    },
);
