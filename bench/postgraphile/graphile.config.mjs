// PostGraphile 5 over the bench database: the reference bench/compare.sh
// measures the CRM against. Amber preset, no auth (the store filter is in
// each query), production mode, no GraphiQL, no watch.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

export default {
  extends: [PostGraphileAmberPreset],
  // Every column can be filtered and ordered by, indexed or not (the
  // queries use the indexes the CRM's own reads use).
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: 10 },
    }),
  ],
  grafserv: {
    port: Number(process.env.PORT || 5678),
    host: "127.0.0.1",
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};
