import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildSchema, parse, validate, type DocumentNode } from "graphql";
import * as documents from "./documents";

const ROOT = resolve(__dirname, "../../..");

// The committed SDL is the contract; before it is exported, ask the server code for it.
function loadSdl(): string {
  const file = resolve(ROOT, "schema/schema.graphql");
  if (existsSync(file)) return readFileSync(file, "utf8");
  const python = resolve(ROOT, ".venv/bin/python");
  return execFileSync(python, ["-c", "from schema.export import print_sdl; print(print_sdl())"], {
    cwd: ROOT,
    encoding: "utf8",
  });
}

const operations = Object.entries(documents).filter(([, doc]) =>
  (doc as DocumentNode).definitions.some((d) => d.kind === "OperationDefinition"),
);

describe("GraphQL documents", () => {
  const schema = buildSchema(loadSdl());

  it("GIVEN the server schema WHEN the SPA's operations are validated THEN none has an error", () => {
    expect(operations.length).toBeGreaterThanOrEqual(9);
    const problems = operations.flatMap(([name, doc]) =>
      validate(schema, doc as DocumentNode).map((error) => `${name}: ${error.message}`),
    );
    expect(problems).toEqual([]);
  });

  it("GIVEN a field the schema lacks WHEN validated THEN the check reports it", () => {
    const drifted = parse('query { job(id: "x") { id notAField } }');
    expect(
      validate(schema, drifted)
        .map((e) => e.message)
        .join(),
    ).toMatch(/notAField/);
  });
});
