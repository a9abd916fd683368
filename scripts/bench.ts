// `npm run bench [-- --runs N] [--users N] [--round-trip-ms N] [--out bench/results.json]`: what calls and bytes cost.
import { benchCommand } from "../toolkit/bench/cli";

benchCommand(process.argv.slice(2));
