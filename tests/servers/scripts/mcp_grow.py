"""A stdio MCP server for the tests: its `grow` tool adds a tool named `extra` while it runs and
sends notifications/tools/list_changed, so a client must list the tools again to see it."""

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("grow")


def extra() -> str:
    """A tool added while the server runs."""
    return "extra ran"


@server.tool()
async def grow(ctx: Context) -> str:
    """Adds the tool `extra`."""
    server.add_tool(extra)
    await ctx.session.send_tool_list_changed()
    return "grown"


if __name__ == "__main__":
    server.run()
