import type { ContentBlock, Thread, ThreadMessage } from "../graphql/types";
import { formatCost } from "../lib/format";
import { toolCallLabel } from "../lib/toolCall";
import { UsageSummary } from "./UsageSummary";

// Past this many messages a reader wants a shortcut to how it ended.
const LONG_THREAD = 10;

function pretty(value: unknown): string {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function firstLine(text: string, max = 80): string {
  const line = text.split("\n", 1)[0];
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function Block({ block }: { block: ContentBlock }) {
  switch (block.__typename) {
    case "TextBlock":
      return <div className="block block-text">{block.text}</div>;
    case "ThinkingBlock":
      return (
        <details className="block block-thinking">
          <summary>Thinking</summary>
          <div className="block-body">{block.thinking}</div>
        </details>
      );
    case "ToolUseBlock":
      return (
        <details className="block block-tool-use">
          <summary>
            Tool call <code>{block.name}</code> <span className="tool-call-label">{toolCallLabel(block.input)}</span>
          </summary>
          <pre className="block-body">{pretty(block.input)}</pre>
        </details>
      );
    case "ToolResultBlock":
      return (
        <details className={`block block-tool-result${block.isError ? " is-error" : ""}`}>
          <summary>
            {block.isError ? "Tool error" : "Tool result"}: <span className="muted">{firstLine(block.content)}</span>
          </summary>
          <pre className="block-body">{block.content}</pre>
        </details>
      );
    default:
      return null;
  }
}

function MessageView({ message, id }: { message: ThreadMessage; id?: string }) {
  return (
    <li className={`message message-${message.role}`} id={id} tabIndex={id ? -1 : undefined}>
      <div className="message-head">
        <span className="role">{message.role}</span>
        <span className="muted">#{message.index}</span>
        {message.usage && <UsageSummary usage={message.usage} label={`Usage of message ${message.index}`} />}
      </div>
      {message.blocks.map((block, i) => (
        <Block key={i} block={block} />
      ))}
    </li>
  );
}

/** The Claude conversation of a run: roles, text, tool calls and results, thinking, per-turn usage. */
export function ThreadViewer({ thread, id = "thread" }: { thread: Thread; id?: string }) {
  const lastId = `${id}-last`;
  const cost = thread.messages.reduce((sum, m) => sum + (m.usage?.costUsd ?? 0), 0);
  return (
    <div className="thread">
      <p className="thread-head muted">
        {thread.model} · {thread.turns} {thread.turns === 1 ? "turn" : "turns"} · {formatCost(cost)}
        {thread.messages.length > LONG_THREAD && (
          <>
            {" · "}
            <a href={`#${lastId}`}>Jump to the last message</a>
          </>
        )}
      </p>
      {thread.system && (
        <details className="thread-system">
          <summary>
            System prompt
            {thread.toolNames.length ? ` and tools: ${thread.toolNames.join(", ")}` : ""}
          </summary>
          <pre>{thread.system}</pre>
        </details>
      )}
      <ol className="messages" aria-label="Messages">
        {thread.messages.map((message, i) => (
          <MessageView
            key={message.index}
            message={message}
            id={i === thread.messages.length - 1 ? lastId : undefined}
          />
        ))}
      </ol>
    </div>
  );
}
