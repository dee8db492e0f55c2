// Client-side mirror of core/locations.py: normalize a repository reference to its location
// and match it against the server's allowlist, so the form can say what is wrong before submit.
// The server stays the authority (it also resolves symlinks of local paths).

const GITHUB_HOST = "github.com";
const OWNER = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})";
const NAME = "[A-Za-z0-9._-]{1,100}";
const SHORT = new RegExp(`^(${OWNER})/(${NAME})$`);
const SCP = new RegExp(`^git@github\\.com:(${OWNER})/(${NAME})$`);

export type Normalized = { location: string; error?: undefined } | { location?: undefined; error: string };

function github(owner: string, name: string): Normalized {
  const bare = name.endsWith(".git") ? name.slice(0, -4) : name;
  if (bare === "" || bare === "." || bare.includes("..")) return { error: `not a valid repository name: ${name}` };
  return { location: `${GITHUB_HOST}/${owner.toLowerCase()}/${bare.toLowerCase()}` };
}

function fromUrl(ref: string): Normalized {
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return { error: "not a valid URL" };
  }
  if (url.search || url.hash || ref.includes("?") || ref.includes("#"))
    return { error: "repository URLs may not carry a query string or fragment" };
  if (url.username || url.password || ref.split("://")[1].split("/")[0].includes("@"))
    return { error: "repository URLs may not carry credentials" };
  if (url.protocol === "file:") return local(decodeURIComponent(url.pathname));
  if (url.protocol !== "https:") return { error: "use https://github.com/owner/name" };
  if (url.hostname.toLowerCase() !== GITHUB_HOST || url.port)
    return { error: `only ${GITHUB_HOST} repositories are supported` };
  const segments = url.pathname.split("/").filter(Boolean);
  if (segments.length !== 2) return { error: "a GitHub URL must name exactly one repository" };
  const match = SHORT.exec(segments.join("/"));
  return match ? github(match[1], match[2]) : { error: "not a valid GitHub repository" };
}

function local(path: string): Normalized {
  if (!path.startsWith("/")) return { error: "give an absolute path (relative paths are resolved by the CLI)" };
  // Collapse "." and ".." and duplicate slashes, as realpath would for a plain path.
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return { location: `/${parts.join("/")}` };
}

/** The location of one repository reference, or why it is not acceptable. */
export function normalizeRepository(raw: string): Normalized {
  const ref = raw.trim();
  if (!ref) return { error: "empty repository reference" };
  if (ref.includes("://")) return fromUrl(ref);
  if (ref.startsWith("git@")) {
    const match = SCP.exec(ref);
    return match ? github(match[1], match[2]) : { error: "only git@github.com:owner/name.git is supported" };
  }
  if (ref.startsWith("/")) return local(ref);
  if (ref.startsWith("./") || ref.startsWith("../") || ref.startsWith("~")) return local(ref);
  const match = SHORT.exec(ref);
  if (match) return github(match[1], match[2]);
  return { error: "use owner/name, https://github.com/owner/name, git@github.com:owner/name.git or a path" };
}

function patternRegex(pattern: string): RegExp {
  let source = "";
  for (const ch of pattern) {
    if (ch === "*") source += "[^/]*";
    else if (ch === "?") source += "[^/]";
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  const flags = pattern.toLowerCase().startsWith(`${GITHUB_HOST}/`) ? "i" : "";
  return new RegExp(`^${source}$`, flags);
}

/** True when a pattern of the allowlist matches the location (`*` stays within one segment). */
export function isAllowed(location: string, patterns: string[]): boolean {
  return patterns.some((pattern) => patternRegex(pattern).test(location));
}

/** Problem with one entry of the repository list, or null when it looks acceptable. */
export function repositoryProblem(raw: string, patterns: string[]): string | null {
  const normalized = normalizeRepository(raw);
  if (normalized.error !== undefined) return normalized.error;
  if (!isAllowed(normalized.location, patterns))
    return `${normalized.location} is not in the allowlist (${patterns.join(", ")})`;
  return null;
}

/** Problems of a whole repository list, keyed by index, plus a list-level one. */
export function validateRepositories(
  refs: string[],
  patterns: string[],
  max: number,
): { perEntry: (string | null)[]; overall: string | null } {
  const perEntry = refs.map((ref) => repositoryProblem(ref, patterns));
  const locations = refs.map((ref) => normalizeRepository(ref).location).filter(Boolean);
  let overall: string | null = null;
  if (refs.length === 0) overall = "add at least one repository";
  else if (refs.length > max) overall = `at most ${max} repositories per job`;
  else if (new Set(locations).size !== locations.length) overall = "a repository is listed twice";
  return { perEntry, overall };
}
