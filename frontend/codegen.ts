// SPA operation types generated from the committed schema (schema/schema.graphql), so the
// SPA never restates the schema by hand. `npm run codegen` writes them; `npm run codegen:check`
// (part of `make test`) fails when they are stale.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema/schema.graphql",
  documents: ["src/graphql/documents.ts"],
  // Keep the schema's order (enum values list in the order the server declares them).
  config: { sort: false },
  generates: {
    "src/graphql/generated/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        enumType: "const",
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown" },
      },
    },
  },
};

export default config;
