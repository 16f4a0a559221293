"""The only package that knows Redis commands: call descriptions, Lua scripts, ops and drivers."""
