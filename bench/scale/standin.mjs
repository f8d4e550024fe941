// The GitHub stand-in in a process of its own, as GitHub is to a deployed app: its git work (it
// spawns git for every ref and object it reads) then takes no time on the app's event loop.
// Started by webhook.mjs through fork(); it answers on the IPC channel with its address and the
// repository it created, and stops on "close" or when its parent goes.
import { startSandbox } from "../../dist/dev/sandbox/server.js";

process.once("message", async ({ dataDir, app, repo }) => {
  const sandbox = await startSandbox({ dataDir, app });
  const created = await sandbox.createRepo(repo.owner, repo.name, repo.options);
  process.send({ apiUrl: sandbox.apiUrl, repo: created });
  const stop = async () => {
    await sandbox.close();
    process.exit(0);
  };
  process.on("message", (message) => message === "close" && void stop());
  process.on("disconnect", () => void stop());
});
