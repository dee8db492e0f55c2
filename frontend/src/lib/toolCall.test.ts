import { toolCallLabel } from "./toolCall";

describe("toolCallLabel", () => {
  it.each([
    [{ command: "view", path: "src/app.py" }, "view src/app.py"],
    ['{"command": "str_replace", "path": "app.py", "old_str": "x"}', "str_replace app.py"],
    [{ command: "make test\nmake lint" }, "$ make test…"],
    [{ path: "README.md" }, "README.md"],
    [{ query: 1 }, ""],
    ["not json", ""],
    [null, ""],
  ])("GIVEN the input %j WHEN labelled THEN it reads %j", (input, label) => {
    expect(toolCallLabel(input)).toBe(label);
  });

  it("GIVEN a very long command WHEN labelled THEN it is cut with an ellipsis", () => {
    expect(toolCallLabel({ command: "x".repeat(200) }, 20)).toBe(`$ ${"x".repeat(18)}…`);
  });
});
