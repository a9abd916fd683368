import { loadProgram } from "./program";
import { startEmulators } from "./emulators";
import { createDataPlane } from "./resources";
(async () => {
  const p = await loadProgram({ stack: "dev" });
  const e = await startEmulators();
  try {
    const d = await createDataPlane(p, e.endpoints);
    console.log(d.tables, d.queues, d.topics, d.subscriptions, d.skipped);
    console.log(d.rewriteEnv(p.fn("campaign-runner").environment), d.rewriteEnv(p.fn("push-sender").environment).CHANNEL_QUEUE_ARN);
  } finally { await e.close(); }
})().catch(e => console.error("ERR", e));
