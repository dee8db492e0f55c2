// One line saying what a tool call did, so a long thread can be scanned without opening each call.

function asObject(input: unknown): Record<string, unknown> | null {
  let value = input;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function clip(text: string, max: number): string {
  const line = text.split("\n", 1)[0];
  return line.length > max || text.includes("\n") ? `${line.slice(0, max)}…` : line;
}

/** "view src/app.py", "str_replace app.py", "$ make test"; "" when the input says nothing short. */
export function toolCallLabel(input: unknown, max = 80): string {
  const fields = asObject(input);
  if (!fields) return "";
  const { command, path } = fields;
  if (typeof command === "string" && typeof path === "string") return clip(`${command} ${path}`, max);
  if (typeof command === "string") return clip(`$ ${command}`, max);
  if (typeof path === "string") return clip(path, max);
  return "";
}
