"""A flow built with the imperative API: Task subclasses, add_edge, set_dependencies, chain.

Run it on its own with ``python examples/imperative.py``.
"""

from __future__ import annotations

from weir import Flow, Parameter, Task


class Download(Task):
    """Pretend to download a file; return its lines."""

    def run(self, url: str) -> list[str]:
        return [f"{url}#line{i}" for i in range(3)]


class CountLines(Task):
    def run(self, lines: list[str]) -> int:
        return len(lines)


class Report(Task):
    def run(self, count: int, url: str) -> str:
        return f"{url}: {count} lines"


class Notify(Task):
    def run(self) -> str:
        return "report sent"


flow = Flow("imperative")
url = Parameter("url", default="https://example.org/data.csv")
download = Download(name="download")
count = CountLines(name="count-lines")
report = Report(name="report")
notify = Notify(name="notify")

flow.add_edge(url, download, key="url")
flow.add_edge(download, count, key="lines")
flow.set_dependencies(report, keyword_tasks={"count": count, "url": url})
flow.chain(report, notify)


if __name__ == "__main__":
    state = flow.run()
    print(state, state.result[report].result)
