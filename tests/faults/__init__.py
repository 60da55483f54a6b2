"""Fault tests: real servers, agents and flow-run processes, broken on purpose."""
