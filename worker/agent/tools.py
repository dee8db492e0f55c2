"""The agent's tool box: tool definitions for the request, and tool_use blocks turned into results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worker.agent.command import CommandTool
from worker.agent.redaction import REDACTED, redact, secret_values
from worker.agent.sandbox import ToolError, Workspace
from worker.agent.text_editor import OnDemandFiles, TextEditorTool
from worker.run_config import CommandSandbox

__all__ = ["REDACTED", "ToolBox"]


class ToolBox:
    """The tools one agent may use, by name."""

    def __init__(
        self,
        workspace: Path,
        *,
        allow_commands: bool = False,
        read_only: bool = False,
        command_timeout: float = 300.0,
        files: OnDemandFiles | None = None,
        secrets: Sequence[str | None] = (),
        sandbox: CommandSandbox | None = None,
    ) -> None:
        self.editor = TextEditorTool(Workspace(workspace), read_only=read_only, files=files)
        self.files = files
        # A read-only analysis gets no shell: a command could change the files it reports on.
        with_shell = allow_commands and not read_only
        self.command = CommandTool(self.editor.workspace.root, command_timeout, sandbox) if with_shell else None
        self._secrets = secret_values(secrets)

    @property
    def definitions(self) -> list[dict[str, Any]]:
        """The `tools` of a Messages API request."""
        tools = [dict(self.editor.definition)]
        if self.command is not None:
            tools.append(dict(self.command.definition))
        return tools

    @property
    def network_isolated(self) -> bool | None:
        """Whether commands run without network; None when there is no command tool."""
        return None if self.command is None else self.command.network_isolated

    @property
    def filesystem_isolated(self) -> bool | None:
        """Whether commands see only the workspace of the machine's private places; None without commands."""
        return None if self.command is None else self.command.filesystem_isolated

    def run(self, block: dict[str, Any], time_left: float | None = None) -> dict[str, Any]:
        """The tool_result block answering one tool_use block; failures are results, never exceptions."""
        name, tool_input = block.get("name"), block.get("input")
        try:
            if not isinstance(tool_input, dict):
                raise ToolError("The tool input must be a JSON object.")
            if name == self.editor.name:
                text, is_error = self.editor(tool_input), False
            elif name == CommandTool.name and self.command is not None:
                if self.files is not None:
                    self.files.expand()  # commands see the whole tree
                text, is_error = self.command(tool_input, timeout=time_left), False
            else:
                raise ToolError(f"There is no tool named {name!r} in this session.")
        except ToolError as error:
            text, is_error = str(error), True
        except OSError as error:
            text, is_error = f"The tool failed: {error.strerror or error}", True
        except UnicodeError:
            # JSON may carry a lone surrogate ("\ud800"), which no file name or file content can hold.
            text, is_error = "The tool input is not valid Unicode text (it holds a lone surrogate).", True
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": block["id"],
            "content": redact(text, self._secrets),
        }
        if is_error:
            result["is_error"] = True
        return result


def changes_files(content: list[dict[str, Any]]) -> bool:
    """Whether a reply's tool calls may have changed files: an edit, or any command."""
    for block in content:
        if block.get("type") != "tool_use":
            continue
        name, tool_input = block.get("name"), block.get("input")
        if name == CommandTool.name:
            return True
        if name == TextEditorTool.name and not (isinstance(tool_input, dict) and tool_input.get("command") == "view"):
            return True
    return False
