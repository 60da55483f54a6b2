"""The REST API under ``/api/v1``: one thin router per resource.

A route parses the request, opens one transaction, calls a model function and
turns the result into a response schema; it holds no logic of its own.
"""
