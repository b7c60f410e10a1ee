// Serves PostGraphile 5 with the config beside this file.
import "./node20.mjs";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => { console.error(e); process.exit(1); });
serv.addTo(server).then(() => {
  server.listen(preset.grafserv.port, preset.grafserv.host, () =>
    console.log(`PostGraphile 5 on http://${preset.grafserv.host}:${preset.grafserv.port}/graphql`));
});
